// Conventions shared by every native entry point: a failure is reported to
// JavaScript as a negative errno (a Number), never as a thrown C++ exception;
// src/native/index.ts turns it into a typed NativeError carrying the operation.
#pragma once
#include <napi.h>
#include <cerrno>

namespace kscale {

inline Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

void InitFsyncProbe(Napi::Env env, Napi::Object exports);
void InitBpfProbe(Napi::Env env, Napi::Object exports);

}  // namespace kscale
