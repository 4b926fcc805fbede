// crash_point.h: named points in the store's write path where a test can make the process die
// at once (as kill -9 would), to check what a crash there leaves behind. Armed from the
// environment: MGMT_CRASH_POINT=<name>[:<n>] dies at the n-th pass (default 1). Unarmed, a
// crash point costs one branch. Points: "after-log-persist" (entries and hard state synced,
// messages not sent, nothing applied), "after-apply" (an entry applied and its index recorded,
// the client not answered), "after-snapshot-state" (a snapshot's state installed, the log not
// moved to it yet).
// Stall points make a step slow instead, as a slow disk would: MGMT_STALL_POINT=<name>:<ms>
// sleeps that long at every pass. Points: "log-persist" (before the log's synced write).
#pragma once

namespace mgmt::store::server {

void crash_point(const char* name);
void stall_point(const char* name);

}  // namespace mgmt::store::server
