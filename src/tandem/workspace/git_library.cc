#include "tandem/workspace/git_library.h"

#include <git2.h>

namespace tandem::workspace {

// git_libgit2_init and git_libgit2_shutdown are refcounted: this reference
// keeps the library initialized in between the Workspaces' own.
GitLibrary::GitLibrary() : init_([] { git_libgit2_init(); }) {}

GitLibrary::~GitLibrary() {
  init_.join();
  git_libgit2_shutdown();
}

}  // namespace tandem::workspace
