#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  kscale::InitFsyncProbe(env, exports);
  kscale::InitBpfProbe(env, exports);
  kscale::InitBpfLoader(env, exports);
  kscale::InitTraffic(env, exports);
  return exports;
}

NODE_API_MODULE(kscale, Init)
