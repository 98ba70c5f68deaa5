// Feature probes through libbpf: does this kernel load a program or create a
// map of a given type? Used by `kscale doctor` and before every eBPF measurement.
#include "common.h"

#include <bpf/libbpf.h>

namespace kscale {
namespace {

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

// probeProgType(type) -> 1 supported, 0 not supported, -errno on probe failure.
Napi::Value ProbeProgType(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) return Errno(info.Env(), EINVAL);
  int type = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(type), nullptr));
}

Napi::Value ProbeMapType(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) return Errno(info.Env(), EINVAL);
  int type = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(type), nullptr));
}

}  // namespace

void InitBpfProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  exports.Set("probeProgType", Napi::Function::New(env, ProbeProgType));
  exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType));
}

}  // namespace kscale
