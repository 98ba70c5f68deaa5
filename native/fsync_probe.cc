// etcd's WAL write pattern: sequential writes of one block, each followed by
// fdatasync. Timed here, in C, so no JavaScript scheduling lands in the samples.
#include "common.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <vector>

namespace kscale {
namespace {

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// fdatasyncProbe(path, blockBytes, count[, preallocate]) -> Float64Array of ns per fdatasync (after each write), or -errno.
// The file is created (must not exist), written, and removed again.
Napi::Value FdatasyncProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
    return Errno(env, EINVAL);
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int64_t block = info[1].As<Napi::Number>().Int64Value();
  int64_t count = info[2].As<Napi::Number>().Int64Value();
  if (block <= 0 || block > (1 << 24) || count <= 0 || count > 10'000'000) return Errno(env, EINVAL);

  // Optional 4th argument: preallocate the whole file first (posix_fallocate),
  // as fio does by default (fallocate=native) and etcd does for its WAL
  // segments, so writes do not extend the file and fdatasync has no size to commit.
  bool preallocate = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(env, errno);
  if (preallocate) {
    int err = posix_fallocate(fd, 0, static_cast<off_t>(block * count));
    if (err == 0 && fsync(fd) != 0) err = errno;
    if (err != 0) {
      close(fd);
      unlink(path.c_str());
      return Errno(env, err);
    }
  }
  std::vector<char> buf(static_cast<size_t>(block), 'k');
  auto out = Napi::Float64Array::New(env, static_cast<size_t>(count));
  int failure = 0;
  for (int64_t i = 0; i < count; i++) {
    ssize_t written = write(fd, buf.data(), buf.size());
    if (written != static_cast<ssize_t>(buf.size())) {
      failure = written < 0 ? errno : EIO;
      break;
    }
    // Only the fdatasync is timed: that is what etcd's wal_fsync_duration_seconds
    // and fio's sync latency measure, so the three can be compared directly.
    double t0 = NowNs();
    if (fdatasync(fd) != 0) {
      failure = errno;
      break;
    }
    out[static_cast<size_t>(i)] = NowNs() - t0;
  }
  close(fd);
  unlink(path.c_str());
  if (failure != 0) return Errno(env, failure);
  return out;
}

}  // namespace

void InitFsyncProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("fdatasyncProbe", Napi::Function::New(env, FdatasyncProbe));
}

}  // namespace kscale
