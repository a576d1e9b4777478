#include "tandem/config/trust.h"

#include <openssl/evp.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tandem/base/strings.h"

namespace tandem::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHeader =
    "# Repositories whose own .tandem/config.toml and verify.md grants you trusted with\n"
    "# `tandem trust`. They stay trusted only while their SHA-256 matches;\n"
    "# `tandem trust --revoke` forgets one.\n";

std::string Canonical(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path.string() : canonical.string();
}

// The first line of `path`, trimmed; "" when it cannot be read.
std::string FirstLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(TrimSpace(line));
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string RepositoryId(std::string_view repo_root) {
  fs::path root(repo_root);
  fs::path dot_git = root / ".git";
  std::error_code ec;
  if (fs::is_directory(dot_git, ec)) return Canonical(dot_git);
  // A linked worktree: ".git" is a file "gitdir: <its private git dir>",
  // whose "commondir" file names the main repository's git directory.
  std::string line = FirstLine(dot_git);
  constexpr std::string_view kPrefix = "gitdir:";
  if (line.rfind(kPrefix, 0) != 0) return Canonical(root);
  fs::path git_dir = std::string(TrimSpace(std::string_view(line).substr(kPrefix.size())));
  if (git_dir.is_relative()) git_dir = root / git_dir;
  std::string common = FirstLine(git_dir / "commondir");
  if (common.empty()) return Canonical(git_dir);
  fs::path common_dir(common);
  return Canonical(common_dir.is_relative() ? git_dir / common_dir : common_dir);
}

std::string TrustStorePath(const ConfigInputs& inputs) {
  std::string user_file = UserConfigPath(inputs);
  if (user_file.empty()) return "";
  return (fs::path(user_file).parent_path() / "trusted.toml").string();
}

Result<std::vector<TrustedRepo>> ReadTrustStore(const std::string& path) {
  std::vector<TrustedRepo> entries;
  std::error_code ec;
  if (!fs::exists(path, ec)) return entries;
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) return IoError(path + ": cannot read the trust store");
  toml::table table;
  try {
    table = toml::parse(content.str(), path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(path + ":" + std::to_string(e.source().begin.line) +
                           ": not a valid trust store: " + std::string(e.description()));
  }
  auto bad = [&](const toml::node& node, std::string_view what) {
    return InvalidArgument(path + ":" + std::to_string(node.source().begin.line) +
                           ": not a valid trust store: " + std::string(what) +
                           " (delete the file to forget every trusted repository)");
  };
  for (auto&& [key, node] : table) {
    const toml::array* array = node.as_array();
    if (key.str() != "repository" || !array)
      return bad(node, "expected only [[repository]] tables");
    for (const toml::node& element : *array) {
      const toml::table* entry = element.as_table();
      if (!entry) return bad(element, "expected a [[repository]] table");
      TrustedRepo repo;
      repo.git_dir = (*entry)["git_dir"].value_or(std::string());
      repo.config_path = (*entry)["config"].value_or(std::string());
      repo.sha256 = (*entry)["sha256"].value_or(std::string());
      repo.verify_path = (*entry)["verify"].value_or(std::string());
      repo.grants_sha256 = (*entry)["grants_sha256"].value_or(std::string());
      if (repo.git_dir.empty() || (repo.sha256.empty() && repo.grants_sha256.empty())) {
        return bad(element, "a [[repository]] needs git_dir and sha256 or grants_sha256");
      }
      entries.push_back(std::move(repo));
    }
  }
  return entries;
}

std::string FormatTrustStore(const std::vector<TrustedRepo>& entries) {
  toml::array array;
  for (const TrustedRepo& repo : entries) {
    toml::table table{{"git_dir", repo.git_dir}, {"config", repo.config_path}};
    if (!repo.sha256.empty()) table.insert("sha256", repo.sha256);
    if (!repo.verify_path.empty()) table.insert("verify", repo.verify_path);
    if (!repo.grants_sha256.empty()) table.insert("grants_sha256", repo.grants_sha256);
    array.push_back(std::move(table));
  }
  std::ostringstream out;
  out << kHeader;
  if (!entries.empty()) out << '\n' << toml::table{{"repository", std::move(array)}} << '\n';
  return out.str();
}

RepoTrust::State Evaluate(const std::vector<TrustedRepo>& entries, TrustedPart part,
                          std::string_view git_dir, std::string_view sha256) {
  bool known = false;
  for (const TrustedRepo& repo : entries) {
    const std::string& trusted = part == TrustedPart::kConfig ? repo.sha256 : repo.grants_sha256;
    if (repo.git_dir != git_dir || trusted.empty()) continue;
    if (trusted == sha256) return RepoTrust::State::kTrusted;
    known = true;
  }
  return known ? RepoTrust::State::kChanged : RepoTrust::State::kUntrusted;
}

Result<GrantsTrust> CheckGrants(const std::string& store_path, const std::string& repo_root,
                                std::string path, std::string_view fingerprint,
                                std::vector<GatedKey> grants) {
  GrantsTrust trust;
  trust.path = std::move(path);
  trust.grants = std::move(grants);
  trust.state = RepoTrust::State::kNotNeeded;
  if (trust.grants.empty()) return trust;
  trust.sha256 = Sha256Hex(fingerprint);
  trust.git_dir = RepositoryId(repo_root);
  std::vector<TrustedRepo> entries;
  if (!store_path.empty()) entries = TRY(ReadTrustStore(store_path));
  trust.state = Evaluate(entries, TrustedPart::kGrants, trust.git_dir, trust.sha256);
  return trust;
}

Status RefuseUntrustedGrants(const GrantsTrust& trust) {
  if (trust.state != RepoTrust::State::kUntrusted && trust.state != RepoTrust::State::kChanged) {
    return Status::Ok();
  }
  std::string message =
      trust.path +
      (trust.state == RepoTrust::State::kChanged
           ? ": a gate's grants, or what runs with them, changed since you trusted them (below)"
           : ": this repository's verify.md grants its gates more than the sandbox allows "
             "(below), and you have not trusted that") +
      "; review them, then run `tandem trust` to trust them as they are now (any later change "
      "asks again), or remove the grants";
  for (const GatedKey& grant : trust.grants) {
    message += "\n" + grant.origin.ToString() + ": " + grant.key + ": " + grant.reason;
  }
  return InvalidArgument(message);
}

}  // namespace tandem::config
