// eBPF cgroup device programs (cgroup v2): load and attach. Filled by the cgroup work.
#pragma once
#include <napi.h>
void InitBpf(Napi::Env env, Napi::Object exports);
