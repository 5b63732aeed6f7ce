#include "plugin_instance.hpp"

#include "host_api.hpp"
#include "node_core.hpp"
#include "p2pnet/node.hpp"

#include <fmt/core.h>

#include <cstddef>
#include <cstring>
#include <future>

namespace p2pnet {
PluginInstance::PluginInstance(std::shared_ptr<const PluginLibrary> library, std::shared_ptr<NodeCore> node,
                               asio::io_context& io, asio::thread_pool& background, LogSeverity log_level)
    : library_(std::move(library)),
      api_(library_->callbacks),
      node_(std::move(node)),
      strand_(asio::make_strand(io.get_executor())),
      background_(background),
      log_(std::make_shared<Logger>(fmt::format("{}/{}", node_->short_id(), library_->name), log_level)) {}

void PluginInstance::create(const nlohmann::json& settings) {
  auto create_fn = api_.create;
  if (!create_fn)
    throw StartupError(fmt::format("plugin '{}' ({}): no create function", name(), library_->file.string()));
  std::string text = settings.dump();
  std::promise<std::string> failure;
  asio::post(strand_, [this, self = shared_from_this(), create_fn, &text, &failure] {
    char error[512] = {0};
    state_ = create_fn(&host_api_table(), handle(), text.data(), text.size(), error, sizeof error);
    loading_ = false;
    error[sizeof error - 1] = '\0';
    failure.set_value(state_ ? "" : error[0] ? error : "no reason given");
  });
  if (auto why = failure.get_future().get(); !why.empty()) {
    // A refusal of the node says it all; what the plugin made of it does not.
    if (!registration_refusal_.empty()) throw StartupError(registration_refusal_);
    throw StartupError(fmt::format("plugin '{}' failed to load: {}", name(), why));
  }
}

template <class F>
void PluginInstance::post(F&& f) {
  asio::post(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable {
    if (self->state_) f();
  });
}

void PluginInstance::start() {
  post([this] {
    if (auto fn = api_.on_start) fn(state_);
  });
}

void PluginInstance::stop_and_wait() {
  std::promise<void> finished;
  asio::post(strand_, [this, self = shared_from_this(), &finished] {
    if (state_)
      if (auto fn = api_.on_stop) fn(state_);
    finished.set_value();
  });
  finished.get_future().wait();
}

void PluginInstance::stop_accepting_work() {
  std::map<uint64_t, std::shared_ptr<asio::steady_timer>> timers;
  {
    std::lock_guard lock(mutex_);
    accepting_background_ = false;
    timers.swap(timers_);  // a timer that fires now finds itself gone and calls nothing
  }
  retiring_ = true;
  // Timers are used on the strand only.
  asio::post(strand_, [timers = std::move(timers)] {
    for (const auto& [id, timer] : timers) timer->cancel();
  });
}

void PluginInstance::destroy_on_strand(bool call_destroy) {
  if (!state_) return;
  if (auto fn = api_.destroy; fn && call_destroy) fn(state_);
  state_ = nullptr;
  destroyed_ = true;
}

void PluginInstance::destroy_and_wait() {
  bool work_finished;
  stop_accepting_work();
  {
    std::unique_lock lock(mutex_);
    // Background work calls back into the plugin when it ends; let it end.
    work_finished = background_idle_.wait_for(lock, std::chrono::seconds(30), [this] { return background_jobs_ == 0; });
    if (!work_finished)
      log_->warn(
          "background work still running after 30 s; the plugin is left undestroyed, so that work cannot "
          "run into freed memory");
  }
  std::promise<void> finished;
  asio::post(strand_, [this, self = shared_from_this(), &finished, work_finished] {
    // The SDK promises destroy only once every work function has returned.
    destroy_on_strand(work_finished);
    finished.set_value();
  });
  finished.get_future().wait();
}

UnloadReport PluginInstance::unload(std::chrono::steady_clock::time_point deadline) {
  UnloadReport report;
  stop_accepting_work();
  // Promises in shared state: the wait may give up before the strand gets there.
  auto stopped = std::make_shared<std::promise<void>>();
  auto stopped_future = stopped->get_future();
  asio::post(strand_, [this, self = shared_from_this(), stopped] {
    if (state_)
      if (auto fn = api_.on_stop) fn(state_);
    stopped->set_value();
  });
  report.callbacks_finished = stopped_future.wait_until(deadline) == std::future_status::ready;
  {
    std::unique_lock lock(mutex_);
    background_idle_.wait_until(lock, deadline, [this] { return background_jobs_ == 0; });
    report.jobs_running = background_jobs_;
    // The last job to end destroys the plugin (see run_background).
    if (report.jobs_running) destroy_when_idle_ = true;
  }
  if (report.jobs_running) {
    report.destroyed = false;
    return report;
  }
  auto destroyed = std::make_shared<std::promise<void>>();
  auto destroyed_future = destroyed->get_future();
  asio::post(strand_, [this, self = shared_from_this(), destroyed] {
    destroy_on_strand(true);
    destroyed->set_value();
  });
  report.destroyed = destroyed_future.wait_until(deadline) == std::future_status::ready;
  return report;
}

// A plugin loaded while peers connect may be told of a peer both by the
// node's walk of its peers and by the handshake: each peer is announced once,
// and a disconnect only follows a connect.
void PluginInstance::peer_connected(const std::shared_ptr<Connection>& peer) {
  post([this, peer] {
    if (!announced_peers_.insert(peer->serial()).second) return;
    if (auto fn = api_.on_peer_connected) fn(state_, &peer->peer_view());
  });
}

void PluginInstance::peer_disconnected(const std::shared_ptr<Connection>& peer, const std::string& reason) {
  post([this, peer, reason] {
    if (announced_peers_.erase(peer->serial()) == 0) return;
    if (auto fn = api_.on_peer_disconnected) fn(state_, &peer->peer_view(), reason.c_str());
  });
}

void PluginInstance::message(const std::shared_ptr<Connection>& from, const std::string& type,
                             const wire::FrameView& frame) {
  size_t header_size = frame.header.size();
  size_t body_size = frame.body.size();
  auto data = std::make_unique_for_overwrite<char[]>(header_size + body_size);
  std::memcpy(data.get(), frame.header.data(), header_size);
  if (body_size) std::memcpy(data.get() + header_size, frame.body.data(), body_size);
  from->hold_dispatched(header_size + body_size);
  // dispatch, not post: when the plugin's strand is idle the handler runs
  // right here on the network thread that read the frame, saving a thread
  // hand-off per message (most of a round trip's latency); a busy strand
  // queues it in order as post would.
  asio::dispatch(strand_,
                 [this, self = shared_from_this(), from, type, data = std::move(data), header_size, body_size] {
                   if (state_)
                     if (auto fn = api_.on_message)
                       fn(state_, &from->peer_view(), type.data(), type.size(), data.get(), header_size,
                          data.get() + header_size, body_size);
                   from->release_dispatched(header_size + body_size);
                 });
}

void PluginInstance::event(const std::string& name, const std::shared_ptr<const std::string>& json) {
  post([this, name, json] {
    if (auto fn = api_.on_event) fn(state_, name.c_str(), json->data(), json->size());
  });
}

void PluginInstance::public_event(const std::string& name, const std::shared_ptr<const std::string>& json) {
  post([this, name, json] {
    if (auto fn = api_.on_public_event) fn(state_, name.c_str(), json->data(), json->size());
  });
}

void PluginInstance::command(uint64_t token, const std::string& name, const std::string& args) {
  asio::post(strand_, [this, self = shared_from_this(), token, name, args] {
    auto node = node_;
    if (!state_) {
      // Unloaded between the console finding the command and this: the
      // command still gets its end, or the console would wait for ever.
      if (!node) return;
      node->print(token, fmt::format("error: plugin {} unloaded", this->name()), false);
      return node->finish_command(token, 1);
    }
    if (auto fn = api_.on_command)
      fn(state_, token, name.c_str(), args.data(), args.size());
    else if (node)
      node->finish_command(token, 1);
  });
}

void PluginInstance::connect_result(uint64_t token, const std::string& peer_id, const std::string& error) {
  post([this, token, peer_id, error] {
    if (auto fn = api_.on_connect_result) fn(state_, token, peer_id.empty() ? nullptr : peer_id.c_str(), error.c_str());
  });
}

uint64_t PluginInstance::start_timer(uint64_t delay_ms, uint64_t repeat_ms) {
  auto timer = std::make_shared<asio::steady_timer>(strand_);
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    if (!accepting_background_) return 0;
    id = next_timer_++;
    timers_[id] = timer;
  }
  timer->expires_after(std::chrono::milliseconds(delay_ms));
  arm_timer(id, timer, repeat_ms);
  return id;
}

void PluginInstance::arm_timer(uint64_t id, const std::shared_ptr<asio::steady_timer>& timer, uint64_t repeat_ms) {
  timer->async_wait([this, self = shared_from_this(), id, timer, repeat_ms](const std::error_code& error) {
    if (error || !state_) return;
    {
      std::lock_guard lock(mutex_);
      auto it = timers_.find(id);
      if (it == timers_.end() || it->second != timer) return;  // cancelled
      if (repeat_ms == 0) timers_.erase(it);
    }
    if (repeat_ms != 0) {
      timer->expires_at(timer->expiry() + std::chrono::milliseconds(repeat_ms));
      arm_timer(id, timer, repeat_ms);
    }
    if (auto fn = api_.on_timer) fn(state_, id);
  });
}

void PluginInstance::cancel_timer(uint64_t id) {
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(mutex_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    timer = std::move(it->second);
    timers_.erase(it);
  }
  asio::post(strand_, [timer] { timer->cancel(); });
}

int PluginInstance::run_background(p2pnet_work_fn work, p2pnet_work_fn done, void* user) {
  if (!work) return P2PNET_ERR_INVALID;
  {
    std::lock_guard lock(mutex_);
    if (!accepting_background_) return P2PNET_ERR_STOPPED;
    ++background_jobs_;
  }
  asio::post(background_, [this, self = shared_from_this(), work, done, user] {
    work(user);
    asio::post(strand_, [this, self, done, user] {
      if (state_ && done) done(user);
      bool destroy_now = false;
      {
        std::lock_guard lock(mutex_);
        if (--background_jobs_ == 0) {
          background_idle_.notify_all();
          destroy_now = destroy_when_idle_;
        }
      }
      if (destroy_now) {
        log_->info("its last background job ended: destroyed");
        destroy_on_strand(true);
      }
    });
  });
  return P2PNET_OK;
}

void PluginInstance::count(const std::string& counter, int64_t delta) {
  std::lock_guard lock(mutex_);
  counters_[counter] += delta;
}

std::map<std::string, int64_t> PluginInstance::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

int PluginInstance::run_command(std::string_view line, uint64_t& token) {
  auto node = node_;
  if (!node) return P2PNET_ERR_STOPPED;
  {
    std::lock_guard lock(mutex_);
    if (!accepting_background_) return P2PNET_ERR_STOPPED;
    if (commands_running_ >= P2PNET_MAX_RUNNING_COMMANDS) return P2PNET_ERR_QUEUE_FULL;
    ++commands_running_;
    token = next_command_++;
  }
  // The sinks run on whatever thread the command prints from, and sometimes
  // inside this call (core commands answer at once): the plugin hears of it
  // later, on its strand, and only while it exists.
  auto self = shared_from_this();
  auto output = [self, token](std::string_view text, bool transient) {
    self->post([self, token, text = std::string(text), transient] {
      if (auto fn = self->api_.on_command_output)
        fn(self->state_, token, text.data(), text.size(), transient ? P2PNET_PRINT_TRANSIENT : 0u);
    });
  };
  auto done = [self, token](int status) {
    {
      std::lock_guard lock(self->mutex_);
      --self->commands_running_;
    }
    self->post([self, token, status] {
      if (auto fn = self->api_.on_command_finished) fn(self->state_, token, status);
    });
  };
  node->execute(line, std::move(output), std::move(done));
  return P2PNET_OK;
}

}  // namespace p2pnet
