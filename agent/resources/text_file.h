// text_file.h: whole-file reads and atomic rewrites for resources that edit files in place
// (line): the new content goes to a temporary file beside the target, is synced, takes the
// target's mode (or `mode` for a new file) and is renamed over it, so a reader sees the old or
// the new content, never half of it. Thread-safety: free functions.
#pragma once

#include "common/result.h"

#include <sys/types.h>

#include <optional>
#include <string>

namespace mgmt::agent::resources {

// nullopt when the file does not exist; an error when it exists but cannot be read.
Result<std::optional<std::string>> read_text_file(const std::string& path);
Result<void> write_text_file_atomic(const std::string& path, const std::string& content,
                                    mode_t mode_if_new = 0644);

}  // namespace mgmt::agent::resources
