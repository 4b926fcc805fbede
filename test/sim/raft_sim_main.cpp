// raft_sim_main.cpp: the simulator's command line.
//   raft_sim --seed N [--trace]           replay one seed (the command a failure prints)
//   raft_sim --seeds COUNT [--first S] [--jobs J] [--stop-at-first]
//                                         soak: run COUNT seeds from S on J processes
// The soak prints progress, then seeds run, ticks, messages, faults injected and violations,
// and every failing seed with its replay command; exit status 1 when any seed failed. Each job
// is a forked process, so a seed that trips an assertion (abort) is reported like any other
// violation and the soak goes on.
#include "test/support/sim/raft_simulation.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string g_program = "build/test/sim/raft_sim";  // as invoked, for replay commands

using mgmt::test::sim::replay_command;
using mgmt::test::sim::run_simulation;
using mgmt::test::sim::SimulationOptions;

struct Shared {  // one slot per job, in memory shared with the forked jobs
  std::atomic<uint64_t> current_seed;
  std::atomic<uint64_t> done;
  std::atomic<uint64_t> ticks;
  std::atomic<uint64_t> messages;
  std::atomic<uint64_t> faults;
  std::atomic<uint64_t> failed;
};

int usage() {
  std::fprintf(stderr,
               "usage: raft_sim --seed N [--trace] | --seeds COUNT [--first S] [--jobs J] "
               "[--stop-at-first]\n");
  return 2;
}

bool parse_u64(const char* s, uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return end && *end == '\0' && *s != '\0';
}

int replay(uint64_t seed, bool trace) {
  SimulationOptions o;
  o.seed = seed;
  o.trace = trace ? &std::cout : nullptr;
  auto r = run_simulation(o);
  std::printf("seed %llu: %s\n  %s\n  ticks=%llu messages=%llu faults=%llu elections=%llu "
              "acked=%llu reads=%llu conf_changes=%llu snapshots=%llu crashes=%llu\n",
              static_cast<unsigned long long>(seed), r.ok ? "ok" : "VIOLATION", r.config.c_str(),
              static_cast<unsigned long long>(r.ticks),
              static_cast<unsigned long long>(r.messages),
              static_cast<unsigned long long>(r.faults),
              static_cast<unsigned long long>(r.stats.elections),
              static_cast<unsigned long long>(r.stats.acked),
              static_cast<unsigned long long>(r.stats.reads),
              static_cast<unsigned long long>(r.stats.conf_changes),
              static_cast<unsigned long long>(r.stats.snapshots_sent),
              static_cast<unsigned long long>(r.stats.crashes));
  if (!r.ok) {
    std::printf("  violation: %s\n  replay: %s\n", r.violation.c_str(),
                replay_command(seed, g_program).c_str());
    return 1;
  }
  return 0;
}

// Runs seeds first+job, first+job+jobs, ... below first+count, in this process.
void run_job(Shared* slot, uint64_t first, uint64_t count, uint64_t job, uint64_t jobs,
             uint64_t resume_from, bool stop_at_first) {
  for (uint64_t s = resume_from; s < first + count; s += jobs) {
    (void)job;
    slot->current_seed = s;
    SimulationOptions o;
    o.seed = s;
    auto r = run_simulation(o);
    slot->ticks += r.ticks;
    slot->messages += r.messages;
    slot->faults += r.faults;
    if (!r.ok) {
      ++slot->failed;
      std::printf("FAIL seed %llu: %s\n  replay: %s\n", static_cast<unsigned long long>(s),
                  r.violation.c_str(), replay_command(s, g_program).c_str());
      std::fflush(stdout);
      if (stop_at_first) {
        ++slot->done;
        _exit(1);
      }
    }
    ++slot->done;
  }
  _exit(0);
}

int soak(uint64_t first, uint64_t count, uint64_t jobs, bool stop_at_first) {
  void* mem = mmap(nullptr, sizeof(Shared) * jobs, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("raft_sim: mmap");
    return 2;
  }
  auto* slots = static_cast<Shared*>(mem);
  for (uint64_t j = 0; j < jobs; ++j) new (&slots[j]) Shared{};
  std::vector<pid_t> pids(jobs, 0);
  auto spawn = [&](uint64_t j, uint64_t from) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) run_job(&slots[j], first, count, j, jobs, from, stop_at_first);
    pids[j] = pid;
  };
  for (uint64_t j = 0; j < jobs; ++j) spawn(j, first + j);
  uint64_t running = jobs, aborted = 0, last_report = 0;
  bool stop = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    uint64_t j = 0;
    while (j < jobs && pids[j] != pid) ++j;
    if (j == jobs) continue;
    --running;
    if (WIFSIGNALED(status)) {
      // The seed tripped an assertion inside the core: a violation like any other.
      const uint64_t s = slots[j].current_seed;
      ++aborted;
      ++slots[j].done;
      std::printf("FAIL seed %llu: aborted by signal %d (an assertion in the core)\n  replay: %s\n",
                  static_cast<unsigned long long>(s), WTERMSIG(status),
                  replay_command(s, g_program).c_str());
      if (stop_at_first) stop = true;
      if (!stop && s + jobs < first + count) {
        spawn(j, s + jobs);
        ++running;
      }
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && stop_at_first) {
      stop = true;
    }
    if (stop) {
      for (uint64_t k = 0; k < jobs; ++k) {
        if (pids[k] != pid) kill(pids[k], SIGKILL);
      }
    }
    uint64_t done = 0;
    for (uint64_t k = 0; k < jobs; ++k) done += slots[k].done;
    if (done - last_report >= 1000) {
      last_report = done;
      std::printf("soak: %llu/%llu seeds\n", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(count));
    }
  }
  uint64_t done = 0, ticks = 0, messages = 0, faults = 0, failed = aborted;
  for (uint64_t k = 0; k < jobs; ++k) {
    done += slots[k].done;
    ticks += slots[k].ticks;
    messages += slots[k].messages;
    faults += slots[k].faults;
    failed += slots[k].failed;
  }
  std::printf("soak: seeds run %llu, ticks %llu, messages %llu, faults injected %llu, "
              "violations %llu\n",
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(ticks),
              static_cast<unsigned long long>(messages), static_cast<unsigned long long>(faults),
              static_cast<unsigned long long>(failed));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 0, count = 0, first = 1, jobs = 1;
  bool have_seed = false, trace = false, stop_at_first = false;
  g_program = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](uint64_t& out) { return i + 1 < argc && parse_u64(argv[++i], out); };
    if (a == "--seed") {
      if (!value(seed)) return usage();
      have_seed = true;
    } else if (a == "--seeds") {
      if (!value(count)) return usage();
    } else if (a == "--first") {
      if (!value(first)) return usage();
    } else if (a == "--jobs") {
      if (!value(jobs) || jobs == 0) return usage();
    } else if (a == "--trace") {
      trace = true;
    } else if (a == "--stop-at-first") {
      stop_at_first = true;
    } else {
      return usage();
    }
  }
  if (have_seed) return replay(seed, trace);
  if (count == 0) return usage();
  return soak(first, count, jobs, stop_at_first);
}
