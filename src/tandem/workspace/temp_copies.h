// The private index copies of workspace/stat_cache.h live in
// <git dir>/tandem-tmp/index-<pid>-XXXXXX. A copy whose process is gone was
// left by a kill -9; StatCache removes such copies when it loads, and a writer
// removes them when it takes the repository over (cli/writer_lock.cc), since
// a run killed after it finished is followed by no load at all.
#pragma once

#include <string>

namespace tandem::workspace {

// Deletes the index copies in `temp_dir` whose process is gone; a live
// process's copy is kept. A missing directory is fine. Thread-safe.
void RemoveDeadIndexCopies(const std::string& temp_dir);

}  // namespace tandem::workspace
