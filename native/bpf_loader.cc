// The eBPF dataplane's kernel side, through libbpf: open and load an object
// with its maps sized for the model, fill maps (BPF_MAP_UPDATE_BATCH with a
// per-element fallback), single-element changes, read-back, BPF_PROG_TEST_RUN,
// tc clsact attach inside a network namespace, pin/unpin, close.
//
// Keys and values arrive as Buffers already laid out by
// src/dataplane/ebpf/maps.ts, so this file knows nothing about the struct
// layouts. Every failure is a negative errno (common.h); the text libbpf and the
// verifier printed for the last failure is kept for bpfLastLog().
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <time.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <vector>

// The kernel's "operation not supported" for BPF commands (not in the UAPI errno headers).
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

namespace kscale {
namespace {

// ---------------------------------------------------------------------------
// libbpf's messages (warnings, the verifier log on a failed load), kept so a
// rejected program is reported with the reason rather than a bare EINVAL.

constexpr size_t kLogCap = 64 * 1024;
std::string g_log;

int CaptureLog(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[4096];
  int n = vsnprintf(line, sizeof line, fmt, args);
  if (n > 0) {
    g_log.append(line, std::min<size_t>(static_cast<size_t>(n), sizeof line - 1));
    if (g_log.size() > kLogCap) g_log.erase(0, g_log.size() - kLogCap);
  }
  return n;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Loaded objects by handle; handles are small positive integers so JavaScript
// never holds a pointer.
std::unordered_map<uint32_t, bpf_object*> g_objects;
uint32_t g_next_handle = 1;

bpf_object* ObjectOf(const Napi::Value& v) {
  if (!v.IsNumber()) return nullptr;
  auto it = g_objects.find(v.As<Napi::Number>().Uint32Value());
  return it == g_objects.end() ? nullptr : it->second;
}

bool IsBuffer(const Napi::Value& v) { return v.IsBuffer(); }
Napi::Buffer<uint8_t> Buf(const Napi::Value& v) { return v.As<Napi::Buffer<uint8_t>>(); }
int Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
uint32_t U32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }

// bpf_obj_get_info_by_fd into a zeroed struct (all zero when the kernel refuses).
template <typename Info>
Info InfoOf(int fd) {
  Info info;
  memset(&info, 0, sizeof info);
  uint32_t len = sizeof info;
  bpf_obj_get_info_by_fd(fd, &info, &len);
  return info;
}

// ---------------------------------------------------------------------------
// Objects

// bpfObjectLoad(path, maxEntries: {mapName: n}) -> handle (> 0) or -errno.
Napi::Value ObjectLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsObject()) return Errno(env, EINVAL);
  g_log.clear();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) return Errno(env, errno ? errno : EINVAL);
  Napi::Object sizes = info[1].As<Napi::Object>();
  Napi::Array names = sizes.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value n = sizes.Get(name);
    bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    int err = !map ? -ENOENT : !n.IsNumber() ? -EINVAL : bpf_map__set_max_entries(map, U32(n));
    if (err) {
      if (!map) g_log += "no map named " + name + " in " + path + "\n";
      bpf_object__close(obj);
      return Errno(env, -err);
    }
  }
  int err = bpf_object__load(obj);
  if (err) {
    bpf_object__close(obj);
    return Errno(env, -err);
  }
  uint32_t handle = g_next_handle++;
  g_objects[handle] = obj;
  return Napi::Number::New(env, handle);
}

Napi::Value ObjectClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) return Errno(env, EINVAL);
  auto it = g_objects.find(U32(info[0]));
  if (it == g_objects.end()) return Errno(env, EBADF);
  bpf_object__close(it->second);
  g_objects.erase(it);
  return Napi::Number::New(env, 0);
}

// bpfObjectMaps(handle) -> [{name, fd, id, type, keySize, valueSize, maxEntries}] or -errno.
Napi::Value ObjectMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = info.Length() == 1 ? ObjectOf(info[0]) : nullptr;
  if (!obj) return Errno(env, EBADF);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    Napi::Object m = Napi::Object::New(env);
    int fd = bpf_map__fd(map);
    bpf_map_info mi = InfoOf<bpf_map_info>(fd);
    m.Set("name", bpf_map__name(map));
    m.Set("fd", fd);
    m.Set("id", mi.id);
    m.Set("type", static_cast<int>(bpf_map__type(map)));
    m.Set("keySize", bpf_map__key_size(map));
    m.Set("valueSize", bpf_map__value_size(map));
    m.Set("maxEntries", bpf_map__max_entries(map));
    out.Set(i++, m);
  }
  return out;
}

// bpfObjectProgs(handle) -> [{name, fd, id, tag}] or -errno.
Napi::Value ObjectProgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = info.Length() == 1 ? ObjectOf(info[0]) : nullptr;
  if (!obj) return Errno(env, EBADF);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    Napi::Object p = Napi::Object::New(env);
    int fd = bpf_program__fd(prog);
    bpf_prog_info pi = InfoOf<bpf_prog_info>(fd);
    p.Set("name", bpf_program__name(prog));
    p.Set("fd", fd);
    p.Set("id", pi.id);
    out.Set(i++, p);
  }
  return out;
}

Napi::Value LastLog(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), g_log); }

// ---------------------------------------------------------------------------
// Map contents

bool IsNotSupported(int err) { return err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP; }

// One element at a time, as a loader without BPF_MAP_UPDATE_BATCH has to.
int UpdateEach(int fd, const uint8_t* keys, size_t key_size, const uint8_t* values, size_t value_size, uint32_t count,
               uint64_t flags, uint32_t* done, uint64_t* syscall_ns) {
  uint64_t t0 = NowNs();
  int err = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (bpf_map_update_elem(fd, keys + i * key_size, values + i * value_size, flags) != 0) {
      err = errno;
      break;
    }
    ++*done;
  }
  *syscall_ns += NowNs() - t0;
  return err;
}

// bpfMapUpdateBatch(fd, keys, values, keySize, valueSize, method 'auto'|'batch'|'single', flags)
//   -> {method, count, totalNs, syscallNs, fallback?} or -errno.
// totalNs runs from entry to just before the result object is built (argument
// checks included), syscallNs covers only the bpf() calls, so the addon's own
// share is totalNs - syscallNs.
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  uint64_t started = NowNs();
  Napi::Env env = info.Env();
  if (info.Length() != 7 || !info[0].IsNumber() || !IsBuffer(info[1]) || !IsBuffer(info[2]) || !info[3].IsNumber() ||
      !info[4].IsNumber() || !info[5].IsString() || !info[6].IsNumber())
    return Errno(env, EINVAL);
  int fd = Int(info[0]);
  auto keys = Buf(info[1]);
  auto values = Buf(info[2]);
  size_t key_size = U32(info[3]), value_size = U32(info[4]);
  std::string method = info[5].As<Napi::String>().Utf8Value();
  uint64_t flags = U32(info[6]);
  if (key_size == 0 || value_size == 0 || keys.Length() % key_size != 0 || values.Length() % value_size != 0 ||
      keys.Length() / key_size != values.Length() / value_size)
    return Errno(env, EINVAL);
  uint32_t count = static_cast<uint32_t>(keys.Length() / key_size);
  uint64_t syscall_ns = 0;
  uint32_t done = 0;
  std::string used = method;
  std::string fallback;
  int err = 0;
  if (count > 0 && method != "single") {
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags, .flags = 0);
    uint32_t n = count;
    uint64_t t0 = NowNs();
    int r = bpf_map_update_batch(fd, keys.Data(), values.Data(), &n, &opts);
    syscall_ns += NowNs() - t0;
    used = "batch";
    if (r != 0) {
      err = -r;
      if (method == "auto" && IsNotSupported(err) && n == 0) {
        // The kernel (or this map type) has no BPF_MAP_UPDATE_BATCH: fall back, and say why.
        fallback = std::string("BPF_MAP_UPDATE_BATCH: ") + strerror(err);
        used = "single";
        err = UpdateEach(fd, keys.Data(), key_size, values.Data(), value_size, count, flags, &done, &syscall_ns);
      } else {
        done = n;
      }
    } else {
      done = n;
    }
  } else if (count > 0) {
    err = UpdateEach(fd, keys.Data(), key_size, values.Data(), value_size, count, flags, &done, &syscall_ns);
  }
  if (err) return Errno(env, err);
  uint64_t total_ns = NowNs() - started;
  Napi::Object out = Napi::Object::New(env);
  out.Set("method", used == "auto" ? "batch" : used);
  out.Set("count", done);
  out.Set("totalNs", static_cast<double>(total_ns));
  out.Set("syscallNs", static_cast<double>(syscall_ns));
  if (!fallback.empty()) out.Set("fallback", fallback);
  return out;
}

// bpfMapUpdate(fd, key, value, flags) -> 0 or -errno.
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsNumber() || !IsBuffer(info[1]) || !IsBuffer(info[2]) || !info[3].IsNumber())
    return Errno(env, EINVAL);
  if (bpf_map_update_elem(Int(info[0]), Buf(info[1]).Data(), Buf(info[2]).Data(), U32(info[3])) != 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// bpfMapDelete(fd, key) -> 0 or -errno (-ENOENT when absent).
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !IsBuffer(info[1])) return Errno(env, EINVAL);
  if (bpf_map_delete_elem(Int(info[0]), Buf(info[1]).Data()) != 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// bpfMapLookup(fd, key, valueSize) -> Buffer or -errno (-ENOENT when absent).
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !IsBuffer(info[1]) || !info[2].IsNumber()) return Errno(env, EINVAL);
  auto out = Napi::Buffer<uint8_t>::New(env, U32(info[2]));
  if (bpf_map_lookup_elem(Int(info[0]), Buf(info[1]).Data(), out.Data()) != 0) return Errno(env, errno);
  return out;
}

// Every key of a map, walked with BPF_MAP_GET_NEXT_KEY (what `bpftool map dump` does).
int CollectKeysOneByOne(int fd, size_t key_size, std::vector<uint8_t>* keys) {
  std::vector<uint8_t> cur(key_size), next(key_size);
  const void* prev = nullptr;
  for (;;) {
    if (bpf_map_get_next_key(fd, prev, next.data()) != 0) return errno == ENOENT ? 0 : errno;
    keys->insert(keys->end(), next.begin(), next.end());
    cur.swap(next);
    prev = cur.data();
  }
}

// Every key of a map, in chunks through BPF_MAP_LOOKUP_BATCH (one syscall per
// few thousand entries instead of one per entry); falls back to the walk above
// where the kernel or the map type lacks it.
int CollectKeys(int fd, size_t key_size, std::vector<uint8_t>* keys) {
  bpf_map_info mi = InfoOf<bpf_map_info>(fd);
  if (mi.key_size != key_size) return mi.key_size == 0 ? EBADF : EINVAL;
  uint32_t chunk = 4096;
  std::vector<uint8_t> kbuf, vbuf;
  uint64_t in_tok = 0, out_tok = 0;  // the kernel's opaque position (a bucket index for hash maps)
  bool first = true;
  for (;;) {
    kbuf.resize(static_cast<size_t>(chunk) * key_size);
    vbuf.resize(static_cast<size_t>(chunk) * mi.value_size);
    uint32_t n = chunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int r = bpf_map_lookup_batch(fd, first ? nullptr : &in_tok, &out_tok, kbuf.data(), vbuf.data(), &n, &opts);
    if (r != 0 && r != -ENOENT) {
      if (r == -ENOSPC && n == 0) {  // one bucket holds more than a chunk: retry bigger from the same place
        chunk *= 2;
        continue;
      }
      if (first && IsNotSupported(-r)) {
        keys->clear();
        return CollectKeysOneByOne(fd, key_size, keys);
      }
      return -r;
    }
    keys->insert(keys->end(), kbuf.begin(), kbuf.begin() + static_cast<size_t>(n) * key_size);
    if (r == -ENOENT) return 0;
    in_tok = out_tok;
    first = false;
  }
}

// bpfMapKeys(fd, keySize) -> Buffer of every key, back to back, or -errno.
Napi::Value MapKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber() || U32(info[1]) == 0) return Errno(env, EINVAL);
  std::vector<uint8_t> keys;
  int err = CollectKeys(Int(info[0]), U32(info[1]), &keys);
  if (err) return Errno(env, err);
  return Napi::Buffer<uint8_t>::Copy(env, keys.data(), keys.size());
}

// bpfMapClear(fd, keySize, method 'auto'|'batch'|'single') -> {method, count, totalNs, syscallNs, fallback?} or -errno.
// The keys are collected first: deleting while walking a hash map restarts the walk.
Napi::Value MapClear(const Napi::CallbackInfo& info) {
  uint64_t started = NowNs();
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsString() || U32(info[1]) == 0)
    return Errno(env, EINVAL);
  int fd = Int(info[0]);
  size_t key_size = U32(info[1]);
  std::string method = info[2].As<Napi::String>().Utf8Value();
  std::vector<uint8_t> keys;
  uint64_t t0 = NowNs();
  int err = CollectKeys(fd, key_size, &keys);
  uint64_t syscall_ns = NowNs() - t0;
  if (err) return Errno(env, err);
  uint32_t count = static_cast<uint32_t>(keys.size() / key_size);
  std::string used = method == "single" ? "single" : "batch";
  std::string fallback;
  uint32_t done = 0;
  if (count > 0 && used == "batch") {
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    uint32_t n = count;
    t0 = NowNs();
    int r = bpf_map_delete_batch(fd, keys.data(), &n, &opts);
    syscall_ns += NowNs() - t0;
    done = n;
    if (r != 0) {
      err = -r;
      if (method == "auto" && IsNotSupported(err) && n == 0) {
        fallback = std::string("BPF_MAP_DELETE_BATCH: ") + strerror(err);
        used = "single";
        err = 0;
      }
    }
  }
  if (count > 0 && used == "single") {
    t0 = NowNs();
    for (uint32_t i = 0; i < count; i++) {
      if (bpf_map_delete_elem(fd, keys.data() + i * key_size) != 0 && errno != ENOENT) {
        err = errno;
        break;
      }
      done++;
    }
    syscall_ns += NowNs() - t0;
  }
  if (err) return Errno(env, err);
  uint64_t total_ns = NowNs() - started;
  Napi::Object out = Napi::Object::New(env);
  out.Set("method", used);
  out.Set("count", done);
  out.Set("totalNs", static_cast<double>(total_ns));
  out.Set("syscallNs", static_cast<double>(syscall_ns));
  if (!fallback.empty()) out.Set("fallback", fallback);
  return out;
}

// bpfMapCount(fd, keySize) -> number of entries, or -errno. Walks the map with
// BPF_MAP_GET_NEXT_KEY, one entry per syscall, independent of the batch path
// the loader used to write it, so a read-back cannot share a bug with the fill.
Napi::Value MapCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber() || U32(info[1]) == 0) return Errno(env, EINVAL);
  size_t key_size = U32(info[1]);
  std::vector<uint8_t> keys;
  int err = CollectKeysOneByOne(Int(info[0]), key_size, &keys);
  if (err) return Errno(env, err);
  return Napi::Number::New(env, static_cast<double>(keys.size() / key_size));
}

// ---------------------------------------------------------------------------
// Programs

// bpfProgTestRun(progFd, packet, repeat, outSize) -> {retval, durationNs, data} or -errno.
// durationNs is the kernel's own average over `repeat` runs (BPF_PROG_TEST_RUN).
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsNumber() || !IsBuffer(info[1]) || !info[2].IsNumber() || !info[3].IsNumber())
    return Errno(env, EINVAL);
  auto in = Buf(info[1]);
  std::vector<uint8_t> out(U32(info[3]));
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.Data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(in.Length()), .data_size_out = static_cast<uint32_t>(out.size()),
              .repeat = Int(info[2]));
  int r = bpf_prog_test_run_opts(Int(info[0]), &opts);
  if (r != 0) return Errno(env, -r);
  Napi::Object res = Napi::Object::New(env);
  res.Set("retval", opts.retval);
  res.Set("durationNs", opts.duration);
  res.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), std::min<size_t>(opts.data_size_out, out.size())));
  return res;
}

// ---------------------------------------------------------------------------
// tc clsact, inside a network namespace

bool ParsePoint(const Napi::Value& v, bpf_tc_attach_point* point) {
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "ingress") *point = BPF_TC_INGRESS;
  else if (s == "egress") *point = BPF_TC_EGRESS;
  else return false;
  return true;
}

// The leading (netnsPath, ifname[, 'ingress'|'egress']) arguments every tc entry point takes.
struct TcTarget {
  std::string netns;
  std::string ifname;
  bpf_tc_attach_point point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
};

// Parses the target and checks that `numbers` Number arguments follow it.
bool ParseTcTarget(const Napi::CallbackInfo& info, bool with_point, size_t numbers, TcTarget* t) {
  size_t lead = with_point ? 3 : 2;
  if (info.Length() != lead + numbers || !info[0].IsString() || !info[1].IsString()) return false;
  if (with_point && !ParsePoint(info[2], &t->point)) return false;
  for (size_t i = lead; i < lead + numbers; i++)
    if (!info[i].IsNumber()) return false;
  t->netns = info[0].As<Napi::String>().Utf8Value();
  t->ifname = info[1].As<Napi::String>().Utf8Value();
  return true;
}

// Fills the hook for the target's device; call with the target's namespace entered.
int TcHook(const TcTarget& t, const ScopedNetns& ns, bpf_tc_hook* hook) {
  if (ns.error()) return ns.error();
  unsigned idx = if_nametoindex(t.ifname.c_str());
  if (idx == 0) return errno ? errno : ENODEV;
  memset(hook, 0, sizeof *hook);
  hook->sz = sizeof *hook;
  hook->ifindex = static_cast<int>(idx);
  hook->attach_point = t.point;
  return 0;
}

// Parse the target, enter its namespace, find the device, then run `f(env, hook)`
// there; the namespace is left when this returns.
template <typename F>
Napi::Value InTcHook(const Napi::CallbackInfo& info, bool with_point, size_t numbers, F f) {
  Napi::Env env = info.Env();
  TcTarget t;
  if (!ParseTcTarget(info, with_point, numbers, &t)) return Errno(env, EINVAL);
  ScopedNetns ns(t.netns);
  bpf_tc_hook hook;
  int err = TcHook(t, ns, &hook);
  if (err) return Errno(env, err);
  return f(env, &hook);
}

// bpfTcAttach(netnsPath, ifname, 'ingress'|'egress', progFd, handle, priority) -> prog id or -errno.
// Creates the clsact qdisc when the device has none.
Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  return InTcHook(info, true, 3, [&](Napi::Env env, bpf_tc_hook* hook) -> Napi::Value {
    int r = bpf_tc_hook_create(hook);
    if (r != 0 && r != -EEXIST) return Errno(env, -r);
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = Int(info[3]), .flags = BPF_TC_F_REPLACE, .handle = U32(info[4]),
                .priority = U32(info[5]));
    r = bpf_tc_attach(hook, &opts);
    if (r != 0) return Errno(env, -r);
    return Napi::Number::New(env, opts.prog_id);
  });
}

// bpfTcDetach(netnsPath, ifname, 'ingress'|'egress', handle, priority) -> 0 or -errno.
Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  return InTcHook(info, true, 2, [&](Napi::Env env, bpf_tc_hook* hook) -> Napi::Value {
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = U32(info[3]), .priority = U32(info[4]));
    int r = bpf_tc_detach(hook, &opts);
    if (r != 0) return Errno(env, -r);
    return Napi::Number::New(env, 0);
  });
}

// bpfTcQuery(netnsPath, ifname, 'ingress'|'egress', handle, priority) -> attached prog id, 0 when none, or -errno.
Napi::Value TcQuery(const Napi::CallbackInfo& info) {
  return InTcHook(info, true, 2, [&](Napi::Env env, bpf_tc_hook* hook) -> Napi::Value {
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = U32(info[3]), .priority = U32(info[4]));
    int r = bpf_tc_query(hook, &opts);
    if (r == -ENOENT || r == -EINVAL) return Napi::Number::New(env, 0);
    if (r != 0) return Errno(env, -r);
    return Napi::Number::New(env, opts.prog_id);
  });
}

// bpfTcHookDestroy(netnsPath, ifname) -> 0 or -errno: removes the clsact qdisc (both directions) and its filters.
Napi::Value TcHookDestroy(const Napi::CallbackInfo& info) {
  return InTcHook(info, false, 0, [&](Napi::Env env, bpf_tc_hook* hook) -> Napi::Value {
    int r = bpf_tc_hook_destroy(hook);
    if (r != 0 && r != -ENOENT) return Errno(env, -r);
    return Napi::Number::New(env, 0);
  });
}

// ---------------------------------------------------------------------------
// bpffs

// bpfObjPin(fd, path) -> 0 or -errno. Unpinning is unlink(2), done from JavaScript.
Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsString()) return Errno(env, EINVAL);
  int r = bpf_obj_pin(Int(info[0]), info[1].As<Napi::String>().Utf8Value().c_str());
  if (r != 0) return Errno(env, -r);
  return Napi::Number::New(env, 0);
}

}  // namespace

void InitBpfLoader(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(CaptureLog);
  exports.Set("bpfObjectLoad", Napi::Function::New(env, ObjectLoad));
  exports.Set("bpfObjectClose", Napi::Function::New(env, ObjectClose));
  exports.Set("bpfObjectMaps", Napi::Function::New(env, ObjectMaps));
  exports.Set("bpfObjectProgs", Napi::Function::New(env, ObjectProgs));
  exports.Set("bpfLastLog", Napi::Function::New(env, LastLog));
  exports.Set("bpfMapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("bpfMapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("bpfMapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("bpfMapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("bpfMapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("bpfMapClear", Napi::Function::New(env, MapClear));
  exports.Set("bpfMapCount", Napi::Function::New(env, MapCount));
  exports.Set("bpfProgTestRun", Napi::Function::New(env, ProgTestRun));
  exports.Set("bpfTcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("bpfTcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("bpfTcQuery", Napi::Function::New(env, TcQuery));
  exports.Set("bpfTcHookDestroy", Napi::Function::New(env, TcHookDestroy));
  exports.Set("bpfObjPin", Napi::Function::New(env, ObjPin));
}

}  // namespace kscale
