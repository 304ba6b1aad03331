{
  # One N-API addon (the parent side: spawn, sync protocol, pidfd, fifo, locks, bpf) and four
  # small executables:
  #   tsrunc-init   the container-side executor; copied into a sealed memfd and exec'd from there
  #                 (CVE-2019-5736), it is also the process that waits in `created`;
  #   tsrunc-reaper a child-subreaper wrapper for tests (PID 1 here reaps orphans lazily);
  #   tsrunc-probe  the conformance suite's in-container checker;
  #   tsrunc-seccomp-agent  a minimal seccomp notify agent for the SCMP_ACT_NOTIFY tests.
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-O2", "-fstack-protector-strong"],
    "cflags_cc": ["-Wall", "-Wextra", "-O2", "-std=c++17", "-fstack-protector-strong"]
  },
  "targets": [
    {
      "target_name": "tsrunc_native",
      "sources": ["addon/module.cc", "addon/spawn.cc", "addon/fs.cc", "addon/bpf.cc", "addon/seccomp.cc", "addon/netdev.cc", "addon/userns.cc", "addon/console.cc", "addon/hooks.cc", "addon/seccomp_notify.cc"],
      # libseccomp is dlopen'ed by addon/seccomp.cc on first use (not a NEEDED library).
      "libraries": ["-ldl"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"]
    },
    {
      "target_name": "tsrunc-init",
      "type": "executable",
      "sources": ["addon/init/init.cc", "addon/init/process.cc", "addon/init/netdev.cc", "addon/init/ns.cc", "addon/init/mounts.cc", "addon/init/tty.cc", "addon/init/join.cc", "addon/init/hooks.cc", "addon/init/seccomp_notify.cc"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-fno-exceptions", "-fno-rtti", "-fno-asynchronous-unwind-tables"],
      # -s: no symbol table, 11% less to copy into the memfd at every create and exec.
      "ldflags": ["-static", "-Wl,--gc-sections", "-s"]
    },
    {
      "target_name": "tsrunc-reaper",
      "type": "executable",
      "sources": ["addon/reaper.c"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "tsrunc-seccomp-agent",
      "type": "executable",
      "sources": ["test/agent/seccomp-agent.c"]
    },
    {
      "target_name": "tsrunc-probe",
      "type": "executable",
      "sources": ["conformance/probe/probe.c"],
      "ldflags": ["-static"]
    }
  ]
}
