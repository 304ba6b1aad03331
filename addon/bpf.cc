#include "bpf.h"
void InitBpf(Napi::Env, Napi::Object) {}
