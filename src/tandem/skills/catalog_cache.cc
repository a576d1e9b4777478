#include "tandem/skills/catalog_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tandem::skills {
namespace {

int64_t Ns(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void Put(std::string& out, const void* data, size_t n) {
  out.append(static_cast<const char*>(data), n);
}

// "<ino><size><mtime><ctime>" of `st`, and the newest change it shows.
void PutStat(std::string& out, const struct stat& st, int64_t& newest) {
  uint64_t fields[4] = {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                        static_cast<uint64_t>(Ns(st.st_mtim)), static_cast<uint64_t>(Ns(st.st_ctim))};
  Put(out, fields, sizeof fields);
  newest = std::max({newest, Ns(st.st_mtim), Ns(st.st_ctim)});
}

// One root's part of the signature: the folder, then each entry's SKILL.md.
void SignRoot(const std::string& dir, FolderSignature& sig) {
  sig.bytes += dir;
  sig.bytes.push_back('\0');
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    sig.bytes += "-";  // absent or unreadable: DiscoverSkills finds nothing or reports it
    sig.bytes.push_back('\0');
    return;
  }
  PutStat(sig.bytes, st, sig.newest_change_ns);
  DIR* d = ::fdopendir(fd);  // owns fd from here
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  // Sorted, so the signature does not depend on readdir's order.
  std::vector<std::string> records;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;  // as DiscoverSkills: hidden entries are not skills
    std::string record(e->d_name);
    record.push_back('\0');
    std::string skill_md = std::string(e->d_name) + "/SKILL.md";
    struct stat file {};
    if (::fstatat(::dirfd(d), skill_md.c_str(), &file, 0) == 0) {
      PutStat(record, file, sig.newest_change_ns);
    } else {
      record += "-";
    }
    records.push_back(std::move(record));
  }
  ::closedir(d);
  std::sort(records.begin(), records.end());
  for (const std::string& r : records) {
    uint32_t n = static_cast<uint32_t>(r.size());
    Put(sig.bytes, &n, sizeof n);
    sig.bytes += r;
  }
}

std::string KeyOf(const SkillRoots& roots) {
  std::string key = roots.repo_root;
  key.push_back('\0');
  key += roots.repo_dir;
  key.push_back('\0');
  key += roots.home;
  return key;
}

}  // namespace

FolderSignature SignSkillFolders(const SkillRoots& roots) {
  // The same folders, in the same order, as DiscoverSkills reads.
  FolderSignature sig;
  if (!roots.repo_root.empty()) {
    SignRoot(roots.repo_root + "/" + roots.repo_dir, sig);
    if (roots.repo_dir != ".claude/skills") SignRoot(roots.repo_root + "/.claude/skills", sig);
  }
  if (!roots.home.empty()) SignRoot(roots.home + "/.agents/skills", sig);
  return sig;
}

int64_t CatalogCache::RealtimeNs() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return Ns(t);
}

CatalogCache::CatalogCache(int64_t racy_margin_ns, Clock now, size_t max_entries)
    : racy_margin_ns_(racy_margin_ns), now_(std::move(now)), max_entries_(max_entries) {}

std::shared_ptr<const CatalogSnapshot> CatalogCache::Get(const SkillRoots& roots) {
  const std::string key = KeyOf(roots);
  const int64_t read_at = now_();
  FolderSignature sig = SignSkillFolders(roots);
  {
    MutexLock lock(mu_);
    for (Entry& e : entries_) {
      if (e.key == key && e.signature == sig.bytes) {
        e.last_used = ++uses_;
        ++counters_.hits;
        return e.snapshot;
      }
    }
    ++counters_.misses;
  }
  auto snapshot = std::make_shared<CatalogSnapshot>();
  snapshot->catalog = DiscoverSkills(roots);
  snapshot->index = SkillIndex::Build(snapshot->catalog);
  std::shared_ptr<const CatalogSnapshot> result = std::move(snapshot);
  // Racily clean: a change this close to the read may hide a later one.
  if (sig.newest_change_ns >= read_at - racy_margin_ns_) return result;
  MutexLock lock(mu_);
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.key == key; });
  if (same == entries_.end()) {
    if (entries_.size() >= max_entries_) {
      same = std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
        return a.last_used < b.last_used;
      });
    } else {
      same = entries_.insert(entries_.end(), Entry{});
    }
  }
  *same = Entry{key, std::move(sig.bytes), result, ++uses_};
  return result;
}

CatalogCache::Counters CatalogCache::counters() const {
  MutexLock lock(mu_);
  return counters_;
}

CatalogCache& ProcessCatalogCache() {
  static CatalogCache* cache = new CatalogCache();  // never destroyed: tasks may run at exit
  return *cache;
}

}  // namespace tandem::skills
