// Real packets for the datapath measurements, with no JavaScript per packet.
//
// Responder (backend namespace): UDP sockets bound to 0.0.0.0:<port> with
// IP_PKTINFO, so each datagram tells which address it was sent to after the
// node's DNAT (the endpoint); the reply leaves from that same address, so the
// node's conntrack can reverse-translate it. TCP listeners accept, read the
// request, answer and close: kscale's generator sends one byte ('k') and gets
// one back; anything else is read up to the end of an HTTP request head and
// answered with a minimal HTTP/1.1 200 (Connection: close), so a real HTTP
// client (wrk, for the cross-check) can drive the same VIP. Every answered
// request counts one hit for its destination address; JavaScript reads the table.
//
// Generators (client namespace): UDP new flows (each flow a fresh socket on its
// own sequential source port: a new 5-tuple, so the first packet misses
// conntrack and walks the node's rules) and TCP connect-request-response-close.
// Both keep up to `window` flows in flight on one epoll, time each flow from
// its first packet to its answer with CLOCK_MONOTONIC, give every flow a
// deadline, and run on a thread of their own (entered into the namespace and
// optionally pinned to a CPU) so the event loop stays free.
//
// UDP batch mode (batch K > 1): K flows' first packets leave in one sendmmsg.
// A UDP socket cannot send from K source ports, so the datagrams are built
// whole (IPv4 + UDP header, checksummed) and sent on one raw socket; each flow
// still has its own UDP socket bound to its fresh source port and connected to
// the VIP, which only receives — the reply lands there exactly as in the
// one-at-a-time mode. Every flow of a batch is timed from the start of the
// sendmmsg call, so flow k's latency includes the node's work on flows 0..k-1.
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace kscale {
namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Pin the calling thread to one CPU; false when the CPU is not ours to use
// (cgroup cpuset, offline, out of range) — the run goes on unpinned.
bool PinSelf(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// ---------------------------------------------------------------------------
// Responder

class Responder {
 public:
  ~Responder() { Stop(); }

  // Sockets are created here, on the caller's thread inside the namespace, so
  // a port already taken is an immediate error rather than a silent thread exit.
  int Open(const std::string& netns, const std::vector<int>& udpPorts, const std::vector<int>& tcpPorts) {
    ScopedNetns ns(netns);
    if (ns.error() != 0) return ns.error();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return errno;
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) return errno;
    if (int err = Watch(wake_, kWake); err != 0) return err;
    for (int port : udpPorts) {
      int fd = BoundSocket(SOCK_DGRAM, port);
      if (fd < 0) return -fd;
      int one = 1;
      if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0) { int e = errno; close(fd); return e; }
      // Room for a burst of new flows while this thread is busy elsewhere.
      int buf = 4 << 20;
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
      udp_.push_back(fd);
      if (int err = Watch(fd, kUdp); err != 0) return err;
    }
    for (int port : tcpPorts) {
      int fd = BoundSocket(SOCK_STREAM, port);
      if (fd < 0) return -fd;
      if (listen(fd, 4096) != 0) { int e = errno; close(fd); return e; }
      listeners_.push_back(fd);
      if (int err = Watch(fd, kListener); err != 0) return err;
    }
    return 0;
  }

  void Start(int cpu) {
    thread_ = std::thread([this, cpu] {
      pinned_ = PinSelf(cpu);
      Loop();
    });
  }

  void Stop() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      if (write(wake_, &one, sizeof(one)) < 0) { /* the loop also polls `stop_` */ }
      stop_ = true;
      thread_.join();
    }
    for (auto& kv : conns_) close(kv.first);
    conns_.clear();
    for (int& fd : udp_) CloseFd(fd);
    for (int& fd : listeners_) CloseFd(fd);
    CloseFd(wake_);
    CloseFd(epoll_);
  }

  struct Snapshot {
    std::vector<std::pair<uint32_t, uint64_t>> hits;
    uint64_t udp = 0, tcp = 0, errors = 0;
    bool pinned = false;
  };

  Snapshot Read() {
    std::lock_guard<std::mutex> lock(mu_);
    Snapshot s;
    s.hits.assign(hits_.begin(), hits_.end());
    s.udp = udpAnswered_;
    s.tcp = tcpAnswered_;
    s.errors = errors_;
    s.pinned = pinned_;
    return s;
  }

  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    hits_.clear();
    udpAnswered_ = tcpAnswered_ = errors_ = 0;
  }

 private:
  // epoll data: the fd in the low 32 bits, its kind in the high ones.
  enum Kind : uint64_t { kWake = 1, kUdp = 2, kListener = 3, kConn = 4 };

  int Watch(int fd, Kind kind) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (static_cast<uint64_t>(kind) << 32) | static_cast<uint32_t>(fd);
    return epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
  }

  static int BoundSocket(int type, int port) {
    if (port <= 0 || port > 65535) return -EINVAL;
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) { int e = errno; close(fd); return -e; }
    return fd;
  }

  void Hit(uint32_t addr, bool udp) {
    std::lock_guard<std::mutex> lock(mu_);
    hits_[addr]++;
    (udp ? udpAnswered_ : tcpAnswered_)++;
  }

  void Error() {
    std::lock_guard<std::mutex> lock(mu_);
    errors_++;
  }

  void Loop() {
    epoll_event events[64];
    int64_t lastActive = 0;
    while (!stop_) {
      // Busy-poll while traffic flows (a wake-up from sleep costs more than
      // the rule walk being measured, and varies more); sleep once idle.
      bool hot = NowNs() - lastActive < kSpinNs;
      int n = epoll_wait(epoll_, events, 64, hot ? 0 : 200);
      if (n > 0) lastActive = NowNs();
      if (n < 0) {
        if (errno == EINTR) continue;
        Error();
        return;
      }
      for (int i = 0; i < n; i++) {
        int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
        switch (events[i].data.u64 >> 32) {
          case kWake: return;
          case kUdp: AnswerUdp(fd); break;
          case kListener: Accept(fd); break;
          case kConn: AnswerTcp(fd); break;
        }
      }
    }
  }

  static msghdr Message(sockaddr_in* peer, iovec* iov, char* control, size_t controlLen) {
    msghdr m{};
    m.msg_name = peer;
    m.msg_namelen = sizeof(*peer);
    m.msg_iov = iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = controlLen;
    return m;
  }

  // Drain the socket: each datagram is answered from the address it was sent to.
  void AnswerUdp(int fd) {
    for (;;) {
      char data[256];
      sockaddr_in peer{};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
      iovec iov{data, sizeof(data)};
      msghdr msg = Message(&peer, &iov, control, sizeof(control));
      ssize_t got = recvmsg(fd, &msg, 0);
      if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) Error();
        return;
      }
      in_pktinfo* info = nullptr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) info = reinterpret_cast<in_pktinfo*>(CMSG_DATA(c));
      }
      if (info == nullptr) { Error(); continue; }
      uint32_t dst = ntohl(info->ipi_addr.s_addr);
      // Reply from the endpoint address: conntrack on the node matches it to the DNATed flow.
      in_pktinfo out{};
      out.ipi_spec_dst = info->ipi_addr;
      alignas(cmsghdr) char outControl[CMSG_SPACE(sizeof(in_pktinfo))] = {};
      iovec riov{data, static_cast<size_t>(got)};
      msghdr reply = Message(&peer, &riov, outControl, sizeof(outControl));
      cmsghdr* c = CMSG_FIRSTHDR(&reply);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      std::memcpy(CMSG_DATA(c), &out, sizeof(out));
      if (sendmsg(fd, &reply, 0) < 0) Error();
      else Hit(dst, true);
    }
  }

  void Accept(int listener) {
    for (;;) {
      int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) Error();
        return;
      }
      sockaddr_in local{};
      socklen_t len = sizeof(local);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) { Error(); close(fd); continue; }
      conns_[fd] = Conn{ntohl(local.sin_addr.s_addr), {}};
      if (Watch(fd, kConn) != 0) { Error(); conns_.erase(fd); close(fd); continue; }
      // The request may already be queued with the handshake's last ACK.
      AnswerTcp(fd);
    }
  }

  // The whole request is read before closing: unread bytes at close() would turn the FIN into a reset.
  void AnswerTcp(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    char buf[2048];
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    bool answered = false;
    if (got > 0) {
      c.request.append(buf, static_cast<size_t>(got));
      if (c.request[0] == kGeneratorByte) {
        answered = write(fd, &c.request[0], 1) == 1;
      } else if (c.request.find("\r\n\r\n") != std::string::npos) {
        static const char kHttp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nk";
        answered = write(fd, kHttp, sizeof(kHttp) - 1) == static_cast<ssize_t>(sizeof(kHttp) - 1);
      } else if (c.request.size() < kMaxRequest) {
        return;  // the rest of the request head is still on its way
      }
    }
    if (answered) Hit(c.addr, false);
    else Error();
    conns_.erase(it);
    close(fd);  // also removes it from the epoll set
  }

  struct Conn {
    uint32_t addr;        // the endpoint address the connection was DNATed to
    std::string request;  // bytes read so far
  };
  static constexpr char kGeneratorByte = 'k';
  static constexpr size_t kMaxRequest = 8192;
  static constexpr int64_t kSpinNs = 20'000'000;
  int epoll_ = -1;
  int wake_ = -1;
  std::vector<int> udp_;
  std::vector<int> listeners_;
  std::unordered_map<int, Conn> conns_;  // responder thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::unordered_map<uint32_t, uint64_t> hits_;
  uint64_t udpAnswered_ = 0, tcpAnswered_ = 0, errors_ = 0;
  bool pinned_ = false;
};

std::map<int, std::unique_ptr<Responder>> responders;
int nextResponder = 1;

std::vector<int> PortList(const Napi::Value& v, bool* ok) {
  std::vector<int> out;
  if (!v.IsArray()) { *ok = false; return out; }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (!x.IsNumber()) { *ok = false; return out; }
    out.push_back(x.As<Napi::Number>().Int32Value());
  }
  return out;
}

// trafficResponderStart(netnsPath, udpPorts[], tcpPorts[], cpu) -> handle (>0) or -errno.
Napi::Value ResponderStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsString() || !info[3].IsNumber()) return Errno(env, EINVAL);
  bool ok = true;
  std::vector<int> udp = PortList(info[1], &ok);
  std::vector<int> tcp = PortList(info[2], &ok);
  if (!ok || (udp.empty() && tcp.empty())) return Errno(env, EINVAL);
  auto r = std::make_unique<Responder>();
  if (int err = r->Open(info[0].As<Napi::String>().Utf8Value(), udp, tcp); err != 0) return Errno(env, err);
  r->Start(info[3].As<Napi::Number>().Int32Value());
  int id = nextResponder++;
  responders[id] = std::move(r);
  return Napi::Number::New(env, id);
}

Responder* Find(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return nullptr;
  auto it = responders.find(info[0].As<Napi::Number>().Int32Value());
  return it == responders.end() ? nullptr : it->second.get();
}

// trafficResponderHits(handle) -> {addrs: Uint32Array (host order), counts: Float64Array, udp, tcp, errors, pinned} or -errno.
Napi::Value ResponderHits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Responder* r = Find(info);
  if (r == nullptr) return Errno(env, ENOENT);
  Responder::Snapshot s = r->Read();
  auto addrs = Napi::Uint32Array::New(env, s.hits.size());
  auto counts = Napi::Float64Array::New(env, s.hits.size());
  for (size_t i = 0; i < s.hits.size(); i++) {
    addrs[i] = s.hits[i].first;
    counts[i] = static_cast<double>(s.hits[i].second);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("addrs", addrs);
  out.Set("counts", counts);
  out.Set("udp", Napi::Number::New(env, static_cast<double>(s.udp)));
  out.Set("tcp", Napi::Number::New(env, static_cast<double>(s.tcp)));
  out.Set("errors", Napi::Number::New(env, static_cast<double>(s.errors)));
  out.Set("pinned", Napi::Boolean::New(env, s.pinned));
  return out;
}

Napi::Value ResponderReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Responder* r = Find(info);
  if (r == nullptr) return Errno(env, ENOENT);
  r->Reset();
  return Napi::Number::New(env, 0);
}

Napi::Value ResponderStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Find(info) == nullptr) return Errno(env, ENOENT);
  responders.erase(info[0].As<Napi::Number>().Int32Value());  // the destructor stops and joins
  return Napi::Number::New(env, 0);
}

// ---------------------------------------------------------------------------
// Generators

enum Outcome : uint8_t { kAnswered = 0, kTimeout = 1, kFailed = 2 };

struct FlowOptions {
  bool tcp = false;
  std::string netns;
  std::vector<uint32_t> ips;    // host order
  std::vector<uint16_t> ports;
  int64_t count = 0;
  int64_t timeoutNs = 0;
  int window = 1;
  int cpu = -1;
  // UDP: flow i binds source port portBase + i (skipping ports in use); 0 lets the kernel pick.
  int portBase = 0;
  // Busy-poll for answers instead of sleeping in epoll_wait.
  bool spin = true;
  // UDP: flows whose first packets leave in one sendmmsg (1 = one flow at a time).
  int batch = 1;
};

struct FlowResult {
  std::vector<double> latencyNs;  // NaN unless answered
  std::vector<double> startNs;    // first packet, from the start of the run; NaN if none left
  std::vector<uint8_t> outcome;
  int64_t sendNs = 0;             // batch mode: time spent inside sendmmsg
  int64_t batches = 0;
  int64_t timeouts = 0, errors = 0;
  int firstErrno = 0;
  int64_t wallNs = 0;
  bool pinned = false;
  int setupErrno = 0;
};

struct Slot {
  int fd = -1;
  int64_t flow = -1;
  int64_t t0 = 0;
  bool connecting = false;  // TCP: waiting for the handshake
};

class FlowRunner {
 public:
  FlowRunner(const FlowOptions& o, FlowResult& r) : o_(o), r_(r) {}

  void Run() {
    r_.latencyNs.assign(static_cast<size_t>(o_.count), std::nan(""));
    r_.startNs.assign(static_cast<size_t>(o_.count), std::nan(""));
    r_.outcome.assign(static_cast<size_t>(o_.count), kFailed);
    ScopedNetns ns(o_.netns);
    if (ns.error() != 0) { r_.setupErrno = ns.error(); return; }
    r_.pinned = PinSelf(o_.cpu);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) { r_.setupErrno = errno; return; }
    if (!o_.tcp && o_.batch > 1) {
      RunBatches();
      CloseFd(epoll_);
      return;
    }
    slots_.resize(static_cast<size_t>(o_.window));
    int64_t begin = NowNs();
    begin_ = begin;
    int64_t next = 0, done = 0;
    int inflight = 0;
    std::vector<epoll_event> events(static_cast<size_t>(o_.window));
    nextPort_ = o_.portBase;
    while (done < o_.count) {
      // Fill the window.
      for (size_t s = 0; s < slots_.size() && next < o_.count; s++) {
        if (slots_[s].fd >= 0) continue;
        if (Launch(s, next++)) inflight++;
        else done++;
      }
      if (inflight == 0) continue;
      int64_t now = NowNs();
      int64_t earliest = INT64_MAX;
      for (const Slot& sl : slots_) if (sl.fd >= 0) earliest = std::min(earliest, sl.t0 + o_.timeoutNs);
      // Spin (timeout 0) up to the earliest deadline, so the answer is seen the
      // moment it arrives rather than after a scheduler wake-up.
      int waitMs = o_.spin ? 0 : static_cast<int>(std::max<int64_t>(0, (earliest - now + 999'999) / 1'000'000));
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), waitMs);
      if (n < 0 && errno != EINTR) { r_.setupErrno = errno; break; }
      for (int i = 0; i < n; i++) {
        size_t s = events[static_cast<size_t>(i)].data.u64;
        if (slots_[s].fd < 0) continue;
        if (Progress(s, events[static_cast<size_t>(i)].events)) { inflight--; done++; }
      }
      // Deadlines: a flow that has not been answered in time is lost, never waited for again.
      now = NowNs();
      for (size_t s = 0; s < slots_.size(); s++) {
        if (slots_[s].fd >= 0 && now - slots_[s].t0 >= o_.timeoutNs) {
          Finish(s, kTimeout, 0);
          inflight--;
          done++;
        }
      }
    }
    for (size_t s = 0; s < slots_.size(); s++) if (slots_[s].fd >= 0) Finish(s, kTimeout, 0);
    r_.wallNs = NowNs() - begin;
    CloseFd(epoll_);
  }

 private:
  void Fail(int64_t flow, int err) {
    r_.outcome[static_cast<size_t>(flow)] = kFailed;
    r_.errors++;
    if (r_.firstErrno == 0) r_.firstErrno = err;
  }

  sockaddr_in Target(int64_t flow) const {
    size_t t = static_cast<size_t>(flow) % o_.ips.size();
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o_.ports[t]);
    sa.sin_addr.s_addr = htonl(o_.ips[t]);
    return sa;
  }

  // A UDP socket on the next free source port: each flow is a 5-tuple conntrack has not seen.
  int UdpSocket() {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (o_.portBase == 0) return fd;
    for (int tries = 0; tries < 64; tries++) {
      if (nextPort_ > 65535) { close(fd); return -EADDRNOTAVAIL; }
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(static_cast<uint16_t>(nextPort_++));
      if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) return fd;
      if (errno != EADDRINUSE) { int e = errno; close(fd); return -e; }
    }
    close(fd);
    return -EADDRINUSE;
  }

  // Start one flow; false when it failed before any packet left.
  bool Launch(size_t s, int64_t flow) {
    sockaddr_in to = Target(flow);
    Slot& sl = slots_[s];
    int fd;
    if (o_.tcp) {
      fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) { Fail(flow, errno); return false; }
    } else {
      fd = UdpSocket();
      if (fd < 0) { Fail(flow, -fd); return false; }
      // connect() only fixes the peer (no packet): the reply, un-DNATed to VIP:port, is the only thing this socket accepts.
      if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) { Fail(flow, errno); close(fd); return false; }
    }
    epoll_event ev{};
    ev.events = o_.tcp ? EPOLLOUT : EPOLLIN;
    ev.data.u64 = s;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) { Fail(flow, errno); close(fd); return false; }
    sl.fd = fd;
    sl.flow = flow;
    sl.t0 = NowNs();
    r_.startNs[static_cast<size_t>(flow)] = static_cast<double>(sl.t0 - begin_);
    if (o_.tcp) {
      sl.connecting = true;
      if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 && errno != EINPROGRESS) {
        int e = errno;
        Finish(s, kFailed, e);
        return false;
      }
    } else {
      char b = 'k';
      if (send(fd, &b, 1, 0) != 1) {
        int e = errno;
        Finish(s, kFailed, e);
        return false;
      }
    }
    return true;
  }

  // Advance a flow on an epoll event; true when the flow is over.
  bool Progress(size_t s, uint32_t events) {
    Slot& sl = slots_[s];
    char b = 'k';
    if (o_.tcp && sl.connecting) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(sl.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) { Finish(s, kFailed, err); return true; }
      if (!(events & EPOLLOUT)) return false;
      if (send(sl.fd, &b, 1, MSG_NOSIGNAL) != 1) { Finish(s, kFailed, errno); return true; }
      sl.connecting = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = s;
      epoll_ctl(epoll_, EPOLL_CTL_MOD, sl.fd, &ev);
      return false;
    }
    ssize_t got = recv(sl.fd, &b, 1, 0);
    if (got == 1) { Finish(s, kAnswered, 0); return true; }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    // UDP: ECONNREFUSED from an ICMP port unreachable; TCP: reset or EOF before the answer.
    Finish(s, kFailed, got < 0 ? errno : ECONNRESET);
    return true;
  }

  static uint16_t Checksum(const void* data, size_t len, uint32_t sum) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i + 1 < len; i += 2) sum += (static_cast<uint32_t>(p[i]) << 8) | p[i + 1];
    if (len & 1) sum += static_cast<uint32_t>(p[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
  }

  // One flow's first datagram, whole: IPv4 header (its checksum the kernel fills in) + UDP + one byte.
  struct RawDatagram {
    iphdr ip;
    udphdr udp;
    char payload;
  } __attribute__((packed));

  static RawDatagram Datagram(const sockaddr_in& from, const sockaddr_in& to) {
    RawDatagram d{};
    d.ip.version = 4;
    d.ip.ihl = 5;
    d.ip.tot_len = htons(sizeof(RawDatagram));
    d.ip.frag_off = htons(IP_DF);
    d.ip.ttl = 64;
    d.ip.protocol = IPPROTO_UDP;
    d.ip.saddr = from.sin_addr.s_addr;
    d.ip.daddr = to.sin_addr.s_addr;
    d.udp.source = from.sin_port;
    d.udp.dest = to.sin_port;
    d.udp.len = htons(sizeof(udphdr) + 1);
    d.payload = 'k';
    // UDP checksum over the pseudo-header (addresses, protocol, length) and the datagram.
    uint32_t pseudo = 0;
    for (uint32_t a : {ntohl(d.ip.saddr), ntohl(d.ip.daddr)}) pseudo += (a >> 16) + (a & 0xffff);
    pseudo += IPPROTO_UDP + sizeof(udphdr) + 1;
    uint16_t sum = Checksum(&d.udp, sizeof(udphdr) + 1, pseudo);
    d.udp.check = htons(sum == 0 ? 0xffff : sum);
    return d;
  }

  // Batch mode: see the file comment.
  void RunBatches() {
    int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IPPROTO_RAW implies IP_HDRINCL
    if (raw < 0) { r_.setupErrno = errno; return; }
    const size_t k = static_cast<size_t>(o_.batch);
    slots_.resize(k);
    std::vector<RawDatagram> packets(k);
    std::vector<sockaddr_in> dests(k);
    std::vector<iovec> iovs(k);
    std::vector<mmsghdr> msgs(k);
    std::vector<size_t> ready;  // slots whose socket is set up, in send order
    std::vector<epoll_event> events(k);
    int64_t begin = NowNs();
    begin_ = begin;
    nextPort_ = o_.portBase;
    int64_t next = 0;
    while (next < o_.count) {
      ready.clear();
      for (size_t s = 0; s < k && next < o_.count; s++) {
        int64_t flow = next++;
        sockaddr_in to = Target(flow);
        int fd = UdpSocket();
        if (fd < 0) { Fail(flow, -fd); continue; }
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        // connect() picks the source address by route (no packet); the socket receives only VIP:port's reply.
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&from), &len) != 0) { Fail(flow, errno); close(fd); continue; }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = s;
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) { Fail(flow, errno); close(fd); continue; }
        Slot& sl = slots_[s];
        sl.fd = fd;
        sl.flow = flow;
        size_t i = ready.size();
        packets[i] = Datagram(from, to);
        dests[i] = to;
        iovs[i] = iovec{&packets[i], sizeof(RawDatagram)};
        msgs[i] = mmsghdr{};
        msgs[i].msg_hdr.msg_name = &dests[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        ready.push_back(s);
      }
      if (ready.empty()) continue;
      int64_t t0 = NowNs();
      for (size_t s : ready) {
        slots_[s].t0 = t0;
        r_.startNs[static_cast<size_t>(slots_[s].flow)] = static_cast<double>(t0 - begin);
      }
      size_t sent = 0;
      while (sent < ready.size()) {
        int n = sendmmsg(raw, &msgs[sent], static_cast<unsigned>(ready.size() - sent), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          int e = n < 0 ? errno : EIO;
          for (size_t i = sent; i < ready.size(); i++) Finish(ready[i], kFailed, e);
          break;
        }
        sent += static_cast<size_t>(n);
      }
      r_.sendNs += NowNs() - t0;
      r_.batches++;
      // Wait for this batch's answers up to its deadline; what is not answered by then is lost.
      size_t open = sent;
      while (open > 0) {
        int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), o_.spin ? 0 : 1);
        if (n < 0 && errno != EINTR) { r_.setupErrno = errno; break; }
        for (int i = 0; i < n; i++) {
          size_t s = events[static_cast<size_t>(i)].data.u64;
          if (slots_[s].fd >= 0 && Progress(s, events[static_cast<size_t>(i)].events)) open--;
        }
        if (NowNs() - t0 >= o_.timeoutNs) break;
      }
      for (size_t s : ready) if (slots_[s].fd >= 0) Finish(s, kTimeout, 0);
      if (r_.setupErrno != 0) break;
    }
    r_.wallNs = NowNs() - begin;
    close(raw);
  }

  void Finish(size_t s, Outcome outcome, int err) {
    Slot& sl = slots_[s];
    size_t flow = static_cast<size_t>(sl.flow);
    if (outcome == kAnswered) {
      r_.latencyNs[flow] = static_cast<double>(NowNs() - sl.t0);
      r_.outcome[flow] = kAnswered;
    } else if (outcome == kTimeout) {
      r_.outcome[flow] = kTimeout;
      r_.timeouts++;
    } else {
      Fail(sl.flow, err);
    }
    close(sl.fd);  // leaves the epoll set with it
    sl.fd = -1;
    sl.flow = -1;
    sl.connecting = false;
  }

  const FlowOptions& o_;
  FlowResult& r_;
  int epoll_ = -1;
  int nextPort_ = 0;
  int64_t begin_ = 0;
  std::vector<Slot> slots_;
};

class FlowWorker : public Napi::AsyncWorker {
 public:
  FlowWorker(Napi::Env env, FlowOptions o) : Napi::AsyncWorker(env), o_(std::move(o)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    // A thread of our own: setns() and the CPU affinity die with it instead of
    // sticking to a libuv pool thread other work would inherit.
    std::thread t([this] { FlowRunner(o_, r_).Run(); });
    t.join();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (r_.setupErrno != 0) { deferred_.Resolve(Errno(env, r_.setupErrno)); return; }
    size_t n = r_.latencyNs.size();
    auto lat = Napi::Float64Array::New(env, n);
    auto start = Napi::Float64Array::New(env, n);
    auto out = Napi::Uint8Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      lat[i] = r_.latencyNs[i];
      start[i] = r_.startNs[i];
      out[i] = r_.outcome[i];
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("latencyNs", lat);
    o.Set("startNs", start);
    o.Set("sendNs", Napi::Number::New(env, static_cast<double>(r_.sendNs)));
    o.Set("batches", Napi::Number::New(env, static_cast<double>(r_.batches)));
    o.Set("outcome", out);
    o.Set("timeouts", Napi::Number::New(env, static_cast<double>(r_.timeouts)));
    o.Set("errors", Napi::Number::New(env, static_cast<double>(r_.errors)));
    o.Set("firstErrno", Napi::Number::New(env, r_.firstErrno));
    o.Set("wallNs", Napi::Number::New(env, static_cast<double>(r_.wallNs)));
    o.Set("pinned", Napi::Boolean::New(env, r_.pinned));
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  FlowOptions o_;
  FlowResult r_;
  Napi::Promise::Deferred deferred_;
};

int64_t Int(const Napi::Object& o, const char* key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

// trafficUdpFlows / trafficTcpCrr({netns, ips: Uint32Array, ports: Uint16Array, count, timeoutMs, window, cpu, portBase, spin, batch})
//   -> Promise<{latencyNs, startNs, outcome, timeouts, errors, firstErrno, wallNs, sendNs, batches, pinned} | -errno>
Napi::Value StartFlows(const Napi::CallbackInfo& info, bool tcp) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) return Errno(env, EINVAL);
  Napi::Object in = info[0].As<Napi::Object>();
  FlowOptions o;
  o.tcp = tcp;
  Napi::Value ns = in.Get("netns"), ips = in.Get("ips"), ports = in.Get("ports");
  if (!ns.IsString() || !ips.IsTypedArray() || !ports.IsTypedArray()) return Errno(env, EINVAL);
  if (ips.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      ports.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) return Errno(env, EINVAL);
  o.netns = ns.As<Napi::String>().Utf8Value();
  Napi::Uint32Array ipArr = ips.As<Napi::Uint32Array>();
  Napi::Uint16Array portArr = ports.As<Napi::Uint16Array>();
  if (ipArr.ElementLength() == 0 || ipArr.ElementLength() != portArr.ElementLength()) return Errno(env, EINVAL);
  o.ips.assign(ipArr.Data(), ipArr.Data() + ipArr.ElementLength());
  o.ports.assign(portArr.Data(), portArr.Data() + portArr.ElementLength());
  o.count = Int(in, "count", 0);
  o.timeoutNs = Int(in, "timeoutMs", 0) * 1'000'000;
  o.window = static_cast<int>(Int(in, "window", 1));
  o.cpu = static_cast<int>(Int(in, "cpu", -1));
  o.portBase = static_cast<int>(Int(in, "portBase", 0));
  o.batch = static_cast<int>(Int(in, "batch", 1));
  Napi::Value spin = in.Get("spin");
  o.spin = spin.IsBoolean() ? spin.As<Napi::Boolean>().Value() : true;
  if (o.count <= 0 || o.count > 10'000'000 || o.timeoutNs <= 0 || o.timeoutNs > 600'000'000'000LL ||
      o.window < 1 || o.window > 4096 || o.portBase < 0 || o.portBase > 65535 ||
      o.batch < 1 || o.batch > 1024 || (tcp && o.batch > 1)) return Errno(env, EINVAL);
  auto* w = new FlowWorker(env, std::move(o));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value UdpFlows(const Napi::CallbackInfo& info) { return StartFlows(info, false); }
Napi::Value TcpCrr(const Napi::CallbackInfo& info) { return StartFlows(info, true); }

}  // namespace

void InitTraffic(Napi::Env env, Napi::Object exports) {
  exports.Set("trafficResponderStart", Napi::Function::New(env, ResponderStart));
  exports.Set("trafficResponderHits", Napi::Function::New(env, ResponderHits));
  exports.Set("trafficResponderReset", Napi::Function::New(env, ResponderReset));
  exports.Set("trafficResponderStop", Napi::Function::New(env, ResponderStop));
  exports.Set("trafficUdpFlows", Napi::Function::New(env, UdpFlows));
  exports.Set("trafficTcpCrr", Napi::Function::New(env, TcpCrr));
  // Responders left running when the environment goes (worker exit, process exit) are stopped and joined.
  env.AddCleanupHook([] { responders.clear(); });
}

}  // namespace kscale
