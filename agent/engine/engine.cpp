// engine.cpp: graph checks, the diffing swap and the event-driven scheduler; see engine.h.
#include "agent/engine/engine.h"

#include "agent/engine/autoedges.h"
#include "agent/engine/autogroup.h"
#include "agent/engine/metaparams.h"
#include "agent/engine/rate_limiter.h"
#include "agent/engine/reversals.h"
#include "agent/engine/semaphores.h"
#include "agent/engine/thread_pool.h"
#include "agent/engine/timer_queue.h"
#include "agent/resources/registry.h"
#include "common/log.h"

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace mgmt::agent::engine {
namespace {

std::string id_of(const std::string& kind, const std::string& name) {
  return kind + "[" + name + "]";
}

}  // namespace

struct Vertex : std::enable_shared_from_this<Vertex> {
  std::string id;
  // What the vertex was made from, for diffing the next graph: its fields, metaparams and
  // grouped members in one canonical text (json dump, keys sorted): exact, and a fraction of
  // the memory of keeping the parsed specs (10,000 files: several MiB).
  std::string fingerprint;
  // Send/recv: values other resources send into this one's fields (a receiver keeps its spec
  // to configure itself again with them before each check).
  struct Receive {
    Vertex* from;
    std::string key;
    std::string field;
  };
  std::vector<Receive> receives;
  std::unique_ptr<frontends::ResourceSpec> recv_spec;
  nlohmann::json received = nlohmann::json::object();  // field -> value last configured
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
  bool waiting_rate = false;   // Meta limit: a run is scheduled for when a token is free
  bool realized = false;       // converged at least once (Meta realize)
  std::unique_ptr<RateLimiter> limiter;
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
  // When the last swap committed, until the first convergence after it; and when the last
  // check_apply finished (the end of a swap's work, once idle).
  std::optional<std::chrono::steady_clock::time_point> swapped_at;
  std::chrono::steady_clock::time_point last_done;
  // Vertices running (or queued on the pool) and waiting on a timer (retry, rate): while any
  // is, the engine is busy without scanning every vertex.
  std::size_t running_count = 0;
  std::size_t timer_count = 0;
  TimerQueue timers;
  Semaphores semaphores;
  Reversals reversals;
  std::map<std::string, bool> groupable_kinds;  // kind -> whether its resources merge
  std::vector<std::weak_ptr<Vertex>> sema_waiting;  // dirty and ready, but a semaphore is full
  std::unique_ptr<ThreadPool> pool;

  explicit Impl(EngineOptions o) : options(std::move(o)) {
    pool = std::make_unique<ThreadPool>(options.workers == 0 ? 1 : options.workers);
    if (auto r = reversals.open(options.state_dir); !r) {
      log::get("engine")->error("{}", r.error().message());
    }
  }

  bool ready(const Vertex* v) const {
    for (const Vertex* b : v->before) {
      if (b->dirty || b->running || !b->in_state) return false;
    }
    return true;
  }

  // Requires: mutex held.
  void maybe_schedule(Vertex* v) {
    if (stopped || v->removed || !v->dirty || v->running || v->failed || v->waiting_rate ||
        !ready(v)) {
      return;
    }
    if (v->meta.hidden) {  // never run; what follows it may
      v->dirty = false;
      v->in_state = true;
      v->realized = true;
      for (auto& [next, notify] : v->after) maybe_schedule(next);
      return;
    }
    const auto now = RateLimiter::clock::now();
    if (const auto wait = v->limiter->wait(now); wait > RateLimiter::clock::duration::zero()) {
      v->waiting_rate = true;
      ++timer_count;
      std::weak_ptr<Vertex> weak = v->shared_from_this();
      timers.after(std::chrono::duration_cast<std::chrono::milliseconds>(wait) +
                       std::chrono::milliseconds(1),
                   [this, weak] {
                     std::lock_guard lock(mutex);
                     --timer_count;
                     auto alive = weak.lock();
                     if (!alive) return;
                     alive->waiting_rate = false;
                     maybe_schedule(alive.get());
                     note_activity();
                   });
      return;
    }
    if (!semaphores.try_acquire(v->meta.sema)) {
      sema_waiting.push_back(v->shared_from_this());
      return;
    }
    v->limiter->take(now);
    v->dirty = false;
    v->running = true;
    ++running_count;
    bool refresh = v->refresh;
    v->refresh = false;
    pool->post([this, v, refresh] { run(v, refresh); });
  }

  // Requires: mutex held. A semaphore was released: those waiting for one try again.
  void wake_sema_waiting() {
    auto waiting = std::move(sema_waiting);
    sema_waiting.clear();
    for (auto& weak : waiting) {
      if (auto alive = weak.lock()) maybe_schedule(alive.get());
    }
  }

  void run(Vertex* v, bool refresh) {
    if (auto r = take_received(v); !r) {
      std::lock_guard lock(mutex);
      v->running = false;
      --running_count;
      v->failed = true;
      v->last_error = r.error().message();
      if (v->last_error.rfind(v->id + ": ", 0) != 0) v->last_error = v->id + ": " + v->last_error;
      log::get("engine")->error("{}", v->last_error);
      if (!v->meta.sema.empty()) {
        semaphores.release(v->meta.sema);
        wake_sema_waiting();
      }
      changed.notify_all();
      note_activity();
      return;
    }
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
    --running_count;
    last_done = std::chrono::steady_clock::now();
    ++activity;
    changed.notify_all();
    if (!v->meta.sema.empty()) {
      semaphores.release(v->meta.sema);
      wake_sema_waiting();
    }
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
        ++timer_count;
        timers.after(std::chrono::milliseconds(v->meta.delay_ms), [this, weak] {
          std::lock_guard relock(mutex);
          --timer_count;
          auto alive = weak.lock();
          if (!alive) return;
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
    v->realized = true;
    if (v->meta.reverse && apply && !reversals.has(v->id)) {
      if (auto undo = v->resource->reversal()) {
        if (auto r = reversals.record(v->id, *undo); !r) {
          log::get("engine")->error("{}: Meta reverse cannot keep its undo record: {}", v->id,
                                    r.error().message());
        }
      }
    }
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
    if (running_count > 0 || timer_count > 0) return false;
    for (const auto& [id, v] : vertices) {
      if (v->running || v->waiting_retry || v->waiting_rate) return false;
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
      std::string took;
      {
        std::lock_guard lock(mutex);
        if (stopped || activity != seen || reported == seen || !all_idle()) return;
        reported = seen;
        callback = options.on_converged;
        if (swapped_at) {
          // The first convergence after a swap: how long the new graph took to be in state.
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              last_done - *swapped_at).count();
          swapped_at.reset();
          took = " (the new graph was in state " + std::to_string(ms) + " ms after it came)";
        }
      }
      log::get("engine")->info("converged: everything in state for {}s{}",
                               options.converged_timeout, took);
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
      log::get("engine")->debug("{}: poll: checking its state (Meta:poll)", alive->id);
      on_event(alive.get());
      poll(alive.get());
    });
  }

  // Requires: mutex held. v cannot converge until something changes: it failed, or a
  // resource before it (transitively) failed.
  bool blocked(const Vertex* v, std::set<const Vertex*>& seen) const {
    if (v->failed) return true;
    if (!seen.insert(v).second) return false;
    for (const Vertex* b : v->before) {
      if (blocked(b, seen)) return true;
    }
    return false;
  }

  // Waits until every running vertex with Meta realize that the swap replaces (in `fresh`) or
  // removes (not in `wanted`) has converged once, failed, or is blocked by a failure.
  void wait_realized(const std::map<std::string, std::shared_ptr<Vertex>>& fresh,
                     const std::map<std::string, const frontends::ResourceSpec*>& wanted) {
    std::unique_lock lock(mutex);
    std::vector<Vertex*> pending;
    for (auto& [id, v] : vertices) {
      if (v->meta.realize && !v->realized && (fresh.count(id) || !wanted.count(id))) {
        pending.push_back(v.get());
      }
    }
    if (pending.empty()) return;
    log::get("engine")->info("waiting for {} resource(s) with Meta realize to converge once "
                             "before the swap", pending.size());
    changed.wait(lock, [&] {
      if (stopped) return true;
      for (Vertex* v : pending) {
        std::set<const Vertex*> seen;
        if (!v->realized && !blocked(v, seen)) return false;
      }
      return true;
    });
  }

  // Send/recv: before a receiver runs, the values its senders sent become its fields (it is
  // configured again when one changed). Runs on the worker, with the vertex not yet checked.
  Result<void> take_received(Vertex* v) {
    if (v->receives.empty() || !v->recv_spec) return ok();
    bool changed_any = false;
    for (const auto& r : v->receives) {
      auto value = r.from->resource->sent(r.key);
      if (!value || v->received.value(r.field, nlohmann::json()) == *value) continue;
      v->recv_spec->params[r.field] = *value;
      v->received[r.field] = *value;
      changed_any = true;
    }
    if (!changed_any) return ok();
    log::get("engine")->info("{}: received new values from send/recv", v->id);
    return v->resource->configure(*v->recv_spec);
  }

  // Whether resources of `kind` merge under Meta autogroup (asked of one, then remembered).
  bool groupable(const std::string& kind) {
    auto it = groupable_kinds.find(kind);
    if (it != groupable_kinds.end()) return it->second;
    const auto* info = resources::find_kind(kind);
    const bool yes = info && info->make && info->make()->groups();
    groupable_kinds[kind] = yes;
    return yes;
  }

  // Meta reverse: runs, once, the undo records of resources the new graph no longer has.
  void reverse_missing(const std::set<std::string>& keep) {
    Result<std::vector<std::pair<std::string, frontends::ResourceSpec>>> undo = fail(
        Code::internal, "");
    {
      std::lock_guard lock(mutex);
      undo = reversals.take_missing(keep);
    }
    if (!undo) {
      log::get("engine")->error("{}", undo.error().message());
      return;
    }
    for (const auto& [id, spec] : *undo) {
      const auto* kind = resources::find_kind(spec.kind);
      auto r = kind && kind->make ? kind->make() : nullptr;
      Result<bool> done = fail(Code::not_found, "its kind " + spec.kind + " is not built");
      if (r) {
        r->set_id(id);
        if (auto c = r->configure(spec); !c) {
          done = fail(c.error());
        } else {
          r->bind(*options.services);
          done = r->check_apply(true);
        }
      }
      if (done) {
        log::get("engine")->info("{}: reversed (Meta reverse): put back as it was before", id);
      } else {
        log::get("engine")->error("{}: Meta reverse could not undo it: {}", id,
                                  done.error().message());
      }
    }
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
  const auto began = std::chrono::steady_clock::now();
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
  struct RecvEdge {
    std::string from, to, send, recv;
  };
  std::vector<RecvEdge> recv_edges;
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
    if (!e.send.empty()) recv_edges.push_back({from, to, e.send, e.recv});
  }
  // Metaparams are checked with everything else, before anything changes.
  std::map<std::string, Meta> metas;
  std::map<std::string, bool> autoedge_on;
  for (const auto& [id, r] : wanted) {
    auto meta = parse_meta(*r);
    if (!meta) return fail(meta.error());
    autoedge_on[id] = meta->autoedge;
    metas.emplace(id, std::move(*meta));
  }
  if (impl_->options.autoedges) {
    std::vector<std::pair<std::string, std::string>> given;
    for (const auto& [from, tos] : edges) {
      for (const auto& [to, notify] : tos) given.emplace_back(from, to);
    }
    for (const auto& [from, to] : autoedges(wanted, autoedge_on, given)) {
      edges[from].emplace_back(to, false);
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
  std::set<std::string> all_ids;
  for (const auto& [id, r] : wanted) all_ids.insert(id);
  // Meta autogroup (autogroup.h): resources of a kind that acts as one merge into one vertex,
  // which takes their edges.
  const Grouping grouping = autogroup(
      wanted, edges, [this](const std::string& kind) { return impl_->groupable(kind); });
  std::map<std::string, std::vector<frontends::ResourceSpec>> members;
  if (!grouping.leader_of.empty()) {
    for (const auto& [lead, ids] : grouping.members) {
      for (const auto& id : ids) members[lead].push_back(*wanted.at(id));
      log::get("engine")->info("{}: grouped with {} more of its kind (Meta autogroup)", lead,
                               ids.size());
    }
    auto leader = [&](const std::string& id) {
      auto it = grouping.leader_of.find(id);
      return it == grouping.leader_of.end() ? id : it->second;
    };
    for (const auto& [member, lead] : grouping.leader_of) wanted.erase(member);
    std::map<std::string, std::vector<std::pair<std::string, bool>>> merged;
    std::set<std::tuple<std::string, std::string, bool>> seen;
    for (const auto& [from, tos] : edges) {
      for (const auto& [to, notify] : tos) {
        const std::string a = leader(from);
        const std::string b = leader(to);
        if (a != b && seen.emplace(a, b, notify).second) merged[a].emplace_back(b, notify);
      }
    }
    edges = std::move(merged);
  }
  // Every byte of the params counts (CBOR keeps strings that are not UTF-8, where dump()
  // throws), so that any change of them is a change of the resource.
  auto bytes = [](const nlohmann::json& value) {
    const std::vector<std::uint8_t> cbor = nlohmann::json::to_cbor(value);
    return std::string(cbor.begin(), cbor.end());
  };
  auto fingerprint = [&](const std::string& id, const frontends::ResourceSpec& r) {
    std::string f = bytes(r.params) + "\n" + bytes(r.meta);
    for (const auto& re : recv_edges) {
      if (re.to == id) f += "\nrecv " + re.from + "." + re.send + " " + re.recv;
    }
    for (const auto& m : members[id]) {
      f += "\n" + id_of(m.kind, m.name) + "\n" + bytes(m.params) + "\n" + bytes(m.meta);
    }
    return f;
  };
  // Build new vertices (configure + init) for what is new or changed.
  std::map<std::string, std::shared_ptr<Vertex>> fresh;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [id, r] : wanted) {
      auto old = impl_->vertices.find(id);
      if (old != impl_->vertices.end() && old->second->fingerprint == fingerprint(id, *r)) {
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
    auto v = std::make_shared<Vertex>();
    v->id = id;
    v->fingerprint = fingerprint(id, *r);
    for (const auto& re : recv_edges) {
      if (re.to == id) {
        v->recv_spec = std::make_unique<frontends::ResourceSpec>(*r);
        break;
      }
    }
    v->meta = metas.at(id);
    v->retries_left = v->meta.retry;
    v->limiter = std::make_unique<RateLimiter>(v->meta.limit,
                                               static_cast<double>(v->meta.burst));
    v->resource = kind->make();
    v->resource->set_id(id);
    v->resource->set_keep_reversal(v->meta.reverse);
    if (auto c = v->resource->configure(*r); !c) return c;
    v->resource->bind(*impl_->options.services);
    if (auto i = v->resource->init(); !i) return i;
    for (const auto& m : members[id]) {
      auto member = kind->make();
      member->set_id(id_of(m.kind, m.name));
      if (auto c = member->configure(m); !c) return c;
      member->bind(*impl_->options.services);
      if (auto i = member->init(); !i) return i;
      if (!v->resource->absorb(member)) {
        return fail(Code::internal, id + ": cannot take in " + id_of(m.kind, m.name) +
                                        " (Meta autogroup); set autogroup false on them");
      }
    }
    slot = std::move(v);
  }
  // Meta realize: what is about to be removed or replaced converges once first.
  impl_->wait_realized(fresh, wanted);
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
      v->receives.clear();
    }
    for (const auto& re : recv_edges) {
      auto from = impl_->vertices.find(re.from);
      auto to = impl_->vertices.find(re.to);
      if (from == impl_->vertices.end() || to == impl_->vertices.end()) continue;
      to->second->receives.push_back({from->second.get(), re.send, re.recv});
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
  impl_->reverse_missing(all_ids);
  for (Vertex* v : started) {
    if (v->meta.hidden) continue;
    v->watch = v->resource->watch([this, v] { impl_->on_event(v); });
    impl_->poll(v);
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->swapped_at = began;
    impl_->last_done = began;
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
    impl_->changed.notify_all();
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
