// rerun_log.h: how an agent's log tells that a changed file made the program run again. The
// file's watch sees the change ("FILE changed: ran the program again"), or, when the change came
// before the watch had started, the run a new watch asks for finds it ("... changed before it
// was watched: ran the program again"; agent/run/lang_stream.h). Either is right.
#pragma once

#include "test/support/process/child_process.h"

#include <string>

namespace mgmt::test {

inline bool logged_rerun_for_change(ChildProcess& agent, const std::string& file) {
  const std::string out = agent.output();
  return out.find(file + " changed: ran the program again") != std::string::npos ||
         out.find("changed before it was watched: ran the program again") != std::string::npos;
}

}  // namespace mgmt::test
