// Conventions shared by every native entry point: a failure is reported to
// JavaScript as a negative errno (a Number), never as a thrown C++ exception;
// src/native/index.ts turns it into a typed NativeError carrying the operation.
#pragma once
#include <napi.h>
#include <cerrno>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <string>

namespace kscale {

inline Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// Enter a network namespace (a path such as /run/netns/<name>) for the life of
// this object, on the calling thread only, and go back on destruction. Kernel
// objects created meanwhile (sockets, tc hooks, ifindex lookups) belong to it.
// An empty path means "stay where we are". Check error() before relying on it.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& path) {
    if (path.empty()) return;
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ < 0) { err_ = errno; return; }
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) { err_ = errno; return; }
    if (setns(target, CLONE_NEWNET) != 0) err_ = errno;
    close(target);
  }
  ~ScopedNetns() {
    if (self_ >= 0) {
      if (err_ == 0) setns(self_, CLONE_NEWNET);
      close(self_);
    }
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  int error() const { return err_; }

 private:
  int self_ = -1;
  int err_ = 0;
};

void InitFsyncProbe(Napi::Env env, Napi::Object exports);
void InitBpfProbe(Napi::Env env, Napi::Object exports);
// native/bpf_loader.cc: BPF objects, maps, batch updates, BPF_PROG_TEST_RUN, tc attach.
void InitBpfLoader(Napi::Env env, Napi::Object exports);
// native/traffic.cc: new-connection generators and backend responders.
void InitTraffic(Napi::Env env, Napi::Object exports);

}  // namespace kscale
