// The C interface protolearn-dist binds: a c10d process group (TCPStore rendezvous + Gloo)
// and the three collectives protolearn uses. Every entry point catches the C++ exceptions of
// c10d and Gloo and returns their message, so no exception crosses into Rust.

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

// The process group and the store it rendezvoused through (kept alive with it).
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

// A heap copy of `message` for Rust, freed by pl_free_error.
char* copy_message(const std::string& message) {
  char* out = static_cast<char*>(std::malloc(message.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, message.c_str(), message.size() + 1);
  }
  return out;
}

// Runs `body`; on an exception, stores its message (c10 errors without their C++ backtrace)
// in *error and returns false.
template <typename Body>
bool guarded(char** error, Body body) {
  try {
    body();
    return true;
  } catch (const c10::Error& e) {
    *error = copy_message(e.what_without_backtrace());
  } catch (const std::exception& e) {
    *error = copy_message(e.what());
  } catch (...) {
    *error = copy_message("unknown C++ exception");
  }
  return false;
}

}  // namespace

extern "C" {

// Joins the group of `world_size` processes whose TCPStore listens at `host:port` (rank 0
// hosts it when `host_store` is nonzero; under torchrun the launcher's agent hosts it), as
// rank `rank`, with a Gloo backend on the interface that reaches `host`. `timeout_ms` bounds
// the rendezvous and every collective. Returns null and sets *error on failure.
void* pl_group_new(const char* host, uint16_t port, int rank, int world_size, int host_store, int64_t timeout_ms,
                   char** error) {
  Group* group = nullptr;
  guarded(error, [&] {
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions options;
    options.port = port;
    options.isServer = host_store != 0;
    options.numWorkers = world_size;
    options.waitWorkers = false;
    options.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::PrefixStore>("protolearn", tcp);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(std::string(host)));
    auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, gloo);
    group = new Group{store, backend};
  });
  return group;
}

// Sums `tensor` (an at::Tensor*, contiguous) over the group in place.
int pl_all_reduce_sum(void* group, void* tensor, char** error) {
  return guarded(error, [&] {
    std::vector<at::Tensor> tensors{*static_cast<at::Tensor*>(tensor)};
    static_cast<Group*>(group)->backend->allreduce(tensors)->wait();
  });
}

// Replaces `tensor` by rank `root`'s, in place.
int pl_broadcast(void* group, void* tensor, int root, char** error) {
  return guarded(error, [&] {
    std::vector<at::Tensor> tensors{*static_cast<at::Tensor*>(tensor)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    static_cast<Group*>(group)->backend->broadcast(tensors, options)->wait();
  });
}

// Returns when every rank has entered it.
int pl_barrier(void* group, char** error) {
  return guarded(error, [&] { static_cast<Group*>(group)->backend->barrier()->wait(); });
}

// Leaves the group.
void pl_group_free(void* group) {
  delete static_cast<Group*>(group);
}

// Frees a message set by one of the calls above.
void pl_free_error(char* error) {
  std::free(error);
}

}  // extern "C"
