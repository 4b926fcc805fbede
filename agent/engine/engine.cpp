// engine.cpp: graph checks, the diffing swap and the event-driven scheduler; see engine.h.
#include "agent/engine/engine.h"

#include "agent/engine/thread_pool.h"
#include "agent/engine/timer_queue.h"
#include "agent/resources/registry.h"
#include "common/log.h"

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace mgmt::agent::engine {
namespace {

struct Meta {
  bool noop = false;
  int64_t retry = 0;
  int64_t delay_ms = 0;
  int64_t poll_s = 0;
};

Result<Meta> parse_meta(const frontends::ResourceSpec& spec) {
  Meta m;
  std::string id = spec.kind + "[" + spec.name + "]";
  for (const auto& [name, value] : spec.meta.items()) {
    bool fits = true;
    if (name == "noop") {
      fits = value.is_boolean();
      if (fits) m.noop = value.get<bool>();
    } else if (name == "retry" || name == "delay" || name == "poll") {
      fits = value.is_number_integer();
      if (fits) {
        int64_t v = value.get<int64_t>();
        (name == "retry" ? m.retry : name == "delay" ? m.delay_ms : m.poll_s) = v;
      }
    } else if (name == "limit" || name == "burst" || name == "sema" || name == "realize" ||
               name == "reverse" || name == "autoedge" || name == "autogroup" ||
               name == "rewatch" || name == "hidden" || name == "export") {
      continue;  // accepted; not acted on yet (docs/engine.md lists them)
    } else {
      return fail(Code::invalid_argument, id + ": unknown metaparameter \"" + name + "\"");
    }
    if (!fits) {
      return fail(Code::invalid_argument, id + ": metaparameter \"" + name +
                                              "\" has the wrong type");
    }
  }
  return m;
}

std::string id_of(const std::string& kind, const std::string& name) {
  return kind + "[" + name + "]";
}

}  // namespace

struct Vertex : std::enable_shared_from_this<Vertex> {
  std::string id;
  frontends::ResourceSpec spec;
  Meta meta;
  std::unique_ptr<resources::Resource> resource;
  std::unique_ptr<resources::Watch> watch;
  // Scheduling state, guarded by Impl::mutex.
  bool dirty = true;
  bool running = false;
  bool in_state = false;
  bool failed = false;
  bool refresh = false;
  bool removed = false;
  bool waiting_retry = false;  // a retry is scheduled on the timer
  int64_t retries_left = 0;
  std::string last_error;
  std::vector<Vertex*> before;                   // must be in state first
  std::vector<std::pair<Vertex*, bool>> after;   // (vertex, notify)
};

struct Engine::Impl {
  EngineOptions options;
  mutable std::mutex mutex;
  std::condition_variable changed;  // a vertex stopped running
  std::map<std::string, std::shared_ptr<Vertex>> vertices;
  uint64_t activity = 0;  // bumps on every event and completion (converged detection)
  uint64_t reported = ~uint64_t{0};  // the activity count last reported as converged
  bool stopped = false;
  TimerQueue timers;
  std::unique_ptr<ThreadPool> pool;

  explicit Impl(EngineOptions o) : options(std::move(o)) {
    pool = std::make_unique<ThreadPool>(options.workers == 0 ? 1 : options.workers);
  }

  bool ready(const Vertex* v) const {
    for (const Vertex* b : v->before) {
      if (b->dirty || b->running || !b->in_state) return false;
    }
    return true;
  }

  // Requires: mutex held.
  void maybe_schedule(Vertex* v) {
    if (stopped || v->removed || !v->dirty || v->running || v->failed || !ready(v)) return;
    v->dirty = false;
    v->running = true;
    bool refresh = v->refresh;
    v->refresh = false;
    pool->post([this, v, refresh] { run(v, refresh); });
  }

  void run(Vertex* v, bool refresh) {
    v->resource->set_refresh(refresh);
    bool apply = !(options.noop || v->meta.noop);
    Result<bool> result = fail(Code::internal, "not run");
    try {
      result = v->resource->check_apply(apply);
    } catch (const std::exception& e) {
      result = fail(Code::internal, v->id + ": " + e.what());
    }
    v->resource->set_refresh(false);
    std::lock_guard lock(mutex);
    v->running = false;
    ++activity;
    changed.notify_all();
    if (!result) {
      v->in_state = false;
      // Resources name themselves in their errors; add the name only where one does not.
      v->last_error = result.error().message();
      if (v->last_error.rfind(v->id + ": ", 0) != 0) v->last_error = v->id + ": " + v->last_error;
      if (v->retries_left != 0 && !stopped) {
        if (v->retries_left > 0) --v->retries_left;
        log::get("engine")->warn("{}; retrying in {} ms", v->last_error, v->meta.delay_ms);
        std::weak_ptr<Vertex> weak = v->shared_from_this();
        v->waiting_retry = true;
        timers.after(std::chrono::milliseconds(v->meta.delay_ms), [this, weak] {
          auto alive = weak.lock();
          if (!alive) return;
          std::lock_guard relock(mutex);
          alive->waiting_retry = false;
          alive->dirty = true;
          maybe_schedule(alive.get());
        });
      } else {
        v->failed = true;
        log::get("engine")->error("{}", v->last_error);
      }
      note_activity();
      return;
    }
    bool was_in_state = *result;
    v->in_state = true;
    v->retries_left = v->meta.retry;
    v->last_error.clear();
    if (!was_in_state && !apply) {
      log::get("engine")->info("{}: out of state (noop: not changed)", v->id);
    }
    for (auto& [next, notify] : v->after) {
      if (!was_in_state) {
        next->dirty = true;
        if (notify) next->refresh = true;
      }
      maybe_schedule(next);
    }
    maybe_schedule(v);  // an event may have arrived while it ran
    note_activity();
  }

  void on_event(Vertex* v) {
    std::lock_guard lock(mutex);
    if (v->removed || stopped) return;
    ++activity;
    v->dirty = true;
    v->failed = false;
    v->retries_left = v->meta.retry;
    maybe_schedule(v);
  }

  // Idle: nothing runs, nothing waits for a retry, and nothing dirty could run now (a dirty
  // resource behind a failed one waits for an event, which is activity of its own).
  bool all_idle() const {
    for (const auto& [id, v] : vertices) {
      if (v->running || v->waiting_retry) return false;
      if (v->dirty && !v->failed && ready(v.get())) return false;
    }
    return true;
  }

  // Requires: mutex held.
  void note_activity() {
    if (options.converged_timeout < 0 || !options.on_converged || !all_idle()) return;
    uint64_t seen = activity;
    timers.after(std::chrono::seconds(options.converged_timeout), [this, seen] {
      std::function<void()> callback;
      {
        std::lock_guard lock(mutex);
        if (stopped || activity != seen || reported == seen || !all_idle()) return;
        reported = seen;
        callback = options.on_converged;
      }
      log::get("engine")->info("converged: everything in state for {}s",
                               options.converged_timeout);
      callback();
    });
  }

  void poll(Vertex* v) {
    if (v->meta.poll_s <= 0) return;
    std::weak_ptr<Vertex> weak = v->shared_from_this();
    timers.after(std::chrono::seconds(v->meta.poll_s), [this, weak] {
      auto alive = weak.lock();
      if (!alive) return;
      {
        std::lock_guard lock(mutex);
        if (alive->removed || stopped) return;
      }
      on_event(alive.get());
      poll(alive.get());
    });
  }

  // Retires vertices: stops their watches (without the lock: a watch thread may be waiting
  // for it), waits until none is running, cleans them up.
  void retire(std::vector<std::shared_ptr<Vertex>> gone) {
    for (auto& v : gone) v->watch.reset();
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] {
        for (auto& v : gone) {
          if (v->running) return false;
        }
        return true;
      });
    }
    for (auto& v : gone) {
      v->resource->cleanup();
      log::get("engine")->debug("{}: removed from the graph", v->id);
    }
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { stop(); }

std::unique_ptr<Engine> Engine::create(EngineOptions options) {
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(std::move(options))));
}

Result<void> Engine::swap(const frontends::GraphSpec& spec) {
  // 1. Check the new graph completely before touching the running one.
  std::map<std::string, const frontends::ResourceSpec*> wanted;
  for (const auto& r : spec.resources) {
    if (auto checked = resources::check_spec(r); !checked) return checked;
    std::string id = id_of(r.kind, r.name);
    if (!wanted.emplace(id, &r).second) {
      return fail(Code::invalid_argument, id + ": defined twice in the graph");
    }
  }
  std::map<std::string, std::vector<std::pair<std::string, bool>>> edges;
  for (const auto& e : spec.edges) {
    std::string from = id_of(e.from_kind, e.from_name);
    std::string to = id_of(e.to_kind, e.to_name);
    for (const auto& end : {from, to}) {
      if (!wanted.count(end)) {
        return fail(Code::invalid_argument, "edge " + from + " -> " + to + " names " + end +
                                                ", which is not in the graph");
      }
    }
    edges[from].emplace_back(to, e.notify);
  }
  if (impl_->options.autoedges) {
    std::map<std::string, std::string> file_paths;  // normalised path -> id
    for (const auto& [id, r] : wanted) {
      if (r->kind != "file") continue;
      std::string path = r->params.value("path", r->name);
      file_paths[std::filesystem::path(path).lexically_normal().string()] = id;
    }
    for (const auto& [path, id] : file_paths) {
      std::filesystem::path p(path);
      if (!p.has_filename()) p = p.parent_path();
      std::string parent = p.parent_path().string() + "/";
      if (auto it = file_paths.find(parent); it != file_paths.end() && it->second != id) {
        edges[it->second].emplace_back(id, false);
      }
    }
  }
  // Cycle check: depth-first, naming the cycle.
  std::map<std::string, int> colour;  // 0 new, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<std::optional<std::string>(const std::string&)> visit =
      [&](const std::string& id) -> std::optional<std::string> {
    colour[id] = 1;
    path.push_back(id);
    for (const auto& [next, notify] : edges[id]) {
      if (colour[next] == 1) {
        std::string cycle;
        auto start = std::find(path.begin(), path.end(), next);
        for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
        return cycle + next;
      }
      if (colour[next] == 0) {
        if (auto found = visit(next)) return found;
      }
    }
    path.pop_back();
    colour[id] = 2;
    return std::nullopt;
  };
  for (const auto& [id, r] : wanted) {
    if (colour[id] == 0) {
      if (auto cycle = visit(id)) {
        return fail(Code::invalid_argument, "the graph has a cycle: " + *cycle);
      }
    }
  }
  // Build new vertices (configure + init) for what is new or changed.
  std::map<std::string, std::shared_ptr<Vertex>> fresh;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [id, r] : wanted) {
      auto old = impl_->vertices.find(id);
      if (old != impl_->vertices.end() && old->second->spec.params == r->params &&
          old->second->spec.meta == r->meta) {
        continue;  // unchanged: keeps running untouched
      }
      fresh[id] = nullptr;
    }
  }
  for (auto& [id, slot] : fresh) {
    const auto* r = wanted[id];
    const auto* kind = resources::find_kind(r->kind);
    if (!kind->make) {
      return fail(Code::unimplemented, id + ": the " + r->kind +
                                           " resource is not built yet; remove it from the "
                                           "graph or wait for a release that has it");
    }
    auto meta = parse_meta(*r);
    if (!meta) return fail(meta.error());
    auto v = std::make_shared<Vertex>();
    v->id = id;
    v->spec = *r;
    v->meta = *meta;
    v->retries_left = meta->retry;
    v->resource = kind->make();
    v->resource->set_id(id);
    if (auto c = v->resource->configure(*r); !c) return c;
    if (auto i = v->resource->init(); !i) return i;
    slot = std::move(v);
  }
  // 2. Commit: move kept vertices over, retire the rest, wire edges, start the new ones.
  std::vector<std::shared_ptr<Vertex>> gone;
  std::vector<Vertex*> started;
  {
    std::lock_guard lock(impl_->mutex);
    std::map<std::string, std::shared_ptr<Vertex>> next;
    for (auto& [id, v] : impl_->vertices) {
      if (wanted.count(id) && !fresh.count(id)) {
        next[id] = std::move(v);
      } else {
        v->removed = true;
        gone.push_back(std::move(v));
      }
    }
    for (auto& [id, v] : fresh) {
      started.push_back(v.get());
      next[id] = std::move(v);
    }
    impl_->vertices = std::move(next);
    for (auto& [id, v] : impl_->vertices) {
      v->before.clear();
      v->after.clear();
    }
    for (const auto& [from, tos] : edges) {
      for (const auto& [to, notify] : tos) {
        Vertex* a = impl_->vertices[from].get();
        Vertex* b = impl_->vertices[to].get();
        a->after.emplace_back(b, notify);
        b->before.push_back(a);
      }
    }
  }
  impl_->retire(std::move(gone));
  for (Vertex* v : started) {
    v->watch = v->resource->watch([this, v] { impl_->on_event(v); });
    impl_->poll(v);
  }
  {
    std::lock_guard lock(impl_->mutex);
    for (Vertex* v : started) impl_->maybe_schedule(v);
    impl_->note_activity();
  }
  log::get("engine")->info("graph{}: {} resources ({} new or changed), {} edges",
                           spec.name.empty() ? "" : " " + spec.name, spec.resources.size(),
                           started.size(), spec.edges.size());
  return ok();
}

void Engine::stop() {
  std::vector<std::shared_ptr<Vertex>> gone;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    for (auto& [id, v] : impl_->vertices) {
      v->removed = true;
      gone.push_back(std::move(v));
    }
    impl_->vertices.clear();
  }
  impl_->retire(std::move(gone));
  impl_->pool.reset();
}

bool Engine::idle() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->all_idle();
}

std::vector<std::string> Engine::errors() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& [id, v] : impl_->vertices) {
    if (v->failed) out.push_back(v->last_error);
  }
  return out;
}

std::size_t Engine::vertex_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->vertices.size();
}

}  // namespace mgmt::agent::engine
