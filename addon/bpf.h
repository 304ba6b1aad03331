// eBPF cgroup device programs (cgroup v2): load and attach (addon/bpf.cc; exports
// bpfAttachDeviceProgram and bpfQueryDevicePrograms, used by src/cgroup).
#pragma once
#include <napi.h>
void InitBpf(Napi::Env env, Napi::Object exports);
