// Placeholder: filled in by the work on this file's issue.
#include "common.h"

namespace kscale {

void InitTraffic(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace kscale
