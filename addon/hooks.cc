// runHook({path, args, env?, timeoutMs, input}) -> {error: string}
//
// A runtime-namespace hook (prestart, createRuntime, poststart, poststop) run from `create`,
// `start` or `delete` (src/lifecycle/hooks.ts): see addon/hookrun.h for how it is run. `error` is
// runc's text of the failure, "" when the hook succeeded.
#include <napi.h>

#include "errors.h"
#include "hookrun.h"

namespace tsrunc {
namespace {

std::vector<std::string> Strings(Napi::Value v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

Napi::Value RunHook(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "runHook: options object expected");
  Napi::Object o = info[0].As<Napi::Object>();
  hookrun::Hook h;
  h.path = o.Get("path").As<Napi::String>().Utf8Value();
  h.args = Strings(o.Get("args"));
  h.hasEnv = o.Get("env").IsArray();
  h.env = Strings(o.Get("env"));
  h.timeoutMs = o.Get("timeoutMs").IsNumber() ? o.Get("timeoutMs").As<Napi::Number>().Int64Value() : 0;
  std::string input = o.Get("input").As<Napi::String>().Utf8Value();
  hookrun::Result r;
  if (int err = hookrun::Run(h, input, &r)) throw ErrnoError(env, err, "run hook", h.path);
  Napi::Object res = Napi::Object::New(env);
  res.Set("error", Napi::String::New(env, hookrun::ErrorText(h, r)));
  return res;
}

}  // namespace

void InitHooks(Napi::Env env, Napi::Object exports) {
  exports.Set("runHook", Napi::Function::New(env, RunHook));
}

}  // namespace tsrunc
