#include "tandem/config/trust.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tandem/config/loader.h"
#include "tandem/config/test_util.h"

namespace tandem::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempTree;

// Records the repository file's current bytes as trusted, as `tandem trust` does.
void TrustRepoFile(const TempTree& tree) {
  std::string path = TrustStorePath(tree.Inputs());
  TempTree::Write(path, FormatTrustStore({{RepositoryId(tree.repo()), tree.repo_file(),
                                           Sha256Hex(TempTree::ReadFile(tree.repo_file()))}}));
}

struct GatedCase {
  std::string toml;  // the repository file
  std::string key;   // the gated key it sets, on line 2
};

// Every kind of key a repository may set only with the user's trust.
const GatedCase kGatedCases[] = {
    {"[providers.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\n", "providers.openai.base_url"},
    {"[providers.openai]\napi_key_env = \"GITHUB_TOKEN\"\n", "providers.openai.api_key_env"},
    {"[providers.openai]\nwire = \"anthropic\"\n", "providers.openai.wire"},
    {"[providers.groq.headers]\nX-Trace = \"1\"\n", "providers.groq.headers.X-Trace"},
    {"[providers.mine]\nmax_retries = 1\nbase_url = \"https://x.example/v1\"\n", "providers.mine"},
    {"[models.mine]\nprovider = \"openai\"\n", "models.mine"},
    {"[models.groq-llama]\nprovider = \"openai\"\n", "models.groq-llama.provider"},
    {"[models.openai-gpt]\nid = \"gpt-5.5-pro\"\n", "models.openai-gpt.id"},
    {"[guardrails]\ncommand_policy = \"allow-all\"\n", "guardrails.command_policy"},
    {"[sandbox]\nmode = \"none\"\n", "sandbox.mode"},
    {"[sandbox]\nnetwork = true\n", "sandbox.network"},
    {"[sandbox]\non_unavailable = \"run-unsandboxed\"\n", "sandbox.on_unavailable"},
    {"[approval]\npolicy = \"approve\"\n", "approval.policy"},
    {"[review]\npolicy = \"never\"\n", "review.policy"},
    {"[review]\nlarge_lines = 100000\n", "review.large_lines"},
    {"[commit]\nenabled = true\n", "commit.enabled"},
    {"[mcp_servers.fs]\ncommand = \"npx\"\n", "mcp_servers.fs.command"},
    {"[mcp_servers.fs]\nenv = [\"GITHUB_TOKEN\"]\ncommand = \"x\"\n", "mcp_servers.fs.env"},
    {"[mcp_servers.fs]\nenabled = false\ncommand = \"x\"\n", "mcp_servers.fs.enabled"},
};

TEST(RepoTrust, EachGatedKeyInAnUntrustedRepositoryFileIsRefusedNamingFileLineAndKey) {
  for (const GatedCase& c : kGatedCases) {
    TempTree tree;
    TempTree::Write(tree.repo_file(), c.toml);
    Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
    ASSERT_FALSE(loaded) << c.key << " was accepted from an untrusted repository file";
    EXPECT_EQ(loaded.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(loaded.error().message(), HasSubstr(tree.repo_file() + ":2: " + c.key + ": "))
        << c.toml;
    EXPECT_THAT(loaded.error().message(), HasSubstr("run `tandem trust`")) << c.toml;
  }
}

TEST(RepoTrust, EachGatedKeyTakesEffectOnceTheFileIsTrusted) {
  for (const GatedCase& c : kGatedCases) {
    TempTree tree;
    TempTree::Write(tree.repo_file(), c.toml);
    TrustRepoFile(tree);
    Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
    ASSERT_TRUE(loaded) << c.key << ": " << loaded.error().ToString();
    EXPECT_EQ(loaded->repo_trust.state, RepoTrust::State::kTrusted) << c.key;
    EXPECT_EQ(loaded->OriginOf(c.key).source, tree.repo_file()) << c.key;
  }
}

TEST(RepoTrust, TrustedRepositoryFileSetsWhereRequestsGo) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[providers.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\n"
                  "[sandbox]\nmode = \"none\"\n");
  TrustRepoFile(tree);
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.providers.at("openai").settings.base_url, "http://127.0.0.1:1/v1");
  EXPECT_EQ(loaded->config.sandbox.mode, SandboxMode::kNone);
}

TEST(RepoTrust, AChangedFileAsksAgain) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[sandbox]\nnetwork = true\n");
  TrustRepoFile(tree);
  ASSERT_TRUE(LoadConfig(tree.Inputs()));
  TempTree::Write(tree.repo_file(), "[sandbox]\nnetwork = true\nmode = \"none\"\n");

  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr("changed since you trusted it"));
  EXPECT_THAT(loaded.error().message(), HasSubstr(tree.repo_file() + ":3: sandbox.mode: "));
  ConfigInputs inspect = tree.Inputs();
  inspect.refuse_untrusted = false;
  EXPECT_EQ(LoadConfig(inspect)->repo_trust.state, RepoTrust::State::kChanged);
}

TEST(RepoTrust, TrustIsPerRepository) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[sandbox]\nmode = \"none\"\n");
  std::string store = TrustStorePath(tree.Inputs());
  // The same bytes, trusted for another repository.
  TempTree::Write(store, FormatTrustStore({{tree.root() + "/other/.git", "x",
                                            Sha256Hex(TempTree::ReadFile(tree.repo_file()))}}));
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr("is not trusted"));
}

TEST(RepoTrust, TuningTheWorkNeedsNoTrust) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[limits]\nmax_steps = 12\nmax_cost_usd = 1.5\n"
                  "[guardrails]\nscope = [\"src/**\"]\nmax_lines_per_step = 50\n"
                  "[roles]\nexecutor = \"groq-llama\"\n"
                  "[models.groq-llama]\nprice_input = 0.5\ncontext_window = 8000\n"
                  "[providers.groq]\nmax_retries = 5\nidle_timeout_ms = 1000\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->repo_trust.state, RepoTrust::State::kNotNeeded);
  EXPECT_EQ(loaded->config.roles.executor, "groq-llama");
  EXPECT_EQ(loaded->config.providers.at("groq").settings.max_retries, 5);
}

TEST(RepoTrust, ARepositoryMayUseProvidersAndModelsFromTheUsersOwnFile) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.local]\nbase_url = \"http://127.0.0.1:9/v1\"\n"
                  "[models.mine]\nprovider = \"local\"\n");
  TempTree::Write(tree.repo_file(),
                  "[roles]\nexecutor = \"mine\"\n[providers.local]\nmax_concurrent_requests = 2\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.roles.executor, "mine");
}

TEST(RepoTrust, TheSameKeysInTheUsersOwnFilesAndFlagsNeedNoTrust) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\n"
                  "[sandbox]\nmode = \"none\"\n");
  Result<LoadedConfig> loaded =
      LoadConfig(tree.Inputs({}, {"guardrails.command_policy=allow-all"}));
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->repo_trust.state, RepoTrust::State::kNoFile);
}

TEST(RepoTrust, LoadingAnywayReportsEveryGatedKeyInLineOrder) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[sandbox]\nmode = \"none\"\n[limits]\nmax_steps = 3\n"
                  "[providers.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\n");
  ConfigInputs inputs = tree.Inputs();
  inputs.refuse_untrusted = false;
  Result<LoadedConfig> loaded = LoadConfig(inputs);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const RepoTrust& trust = loaded->repo_trust;
  EXPECT_EQ(trust.state, RepoTrust::State::kUntrusted);
  ASSERT_EQ(trust.gated.size(), 2u);
  EXPECT_EQ(trust.gated[0].key, "sandbox.mode");
  EXPECT_EQ(trust.gated[0].origin.line, 2);
  EXPECT_EQ(trust.gated[1].key, "providers.openai.base_url");
  EXPECT_EQ(trust.gated[1].origin.line, 6);
  EXPECT_EQ(trust.sha256, Sha256Hex(TempTree::ReadFile(tree.repo_file())));
}

TEST(RepoTrust, AMalformedTrustStoreIsAnErrorNamingIt) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[sandbox]\nmode = \"none\"\n");
  std::string store = TrustStorePath(tree.Inputs());
  TempTree::Write(store, "[[repository]]\ngit_dir = 3\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr(store + ":1: not a valid trust store"));
}

TEST(TrustStore, FormatReadsBackUnchanged) {
  TempTree tree;
  std::vector<TrustedRepo> entries = {
      {"/a/\"quoted\" dir/.git", "/a/.tandem/config.toml", "ab12"},
      {"/b/.git", "/b/wt/.tandem/config.toml", "cd34", "/b/wt/verify.md", "ef56"},
      {"/c/.git", "/c/.tandem/config.toml", "", "/c/verify.md", "0a1b"}};
  std::string path = tree.root() + "/trusted.toml";
  TempTree::Write(path, FormatTrustStore(entries));
  Result<std::vector<TrustedRepo>> read = ReadTrustStore(path);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(*read, entries);
  EXPECT_TRUE(ReadTrustStore(tree.root() + "/missing.toml")->empty());
}

TEST(TrustStore, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RepositoryId, ALinkedWorktreeSharesItsMainRepositorysIdentity) {
  TempTree tree;
  std::string main = tree.repo();
  std::string linked = tree.root() + "/linked";
  std::string git = "git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false ";
  ASSERT_EQ(std::system((git + "-C " + main + " init -q && " + git + "-C " + main +
                         " commit -q --allow-empty -m x && " + git + "-C " + main +
                         " worktree add -q --detach " + linked)
                            .c_str()),
            0);
  EXPECT_EQ(RepositoryId(main), std::filesystem::canonical(main + "/.git").string());
  EXPECT_EQ(RepositoryId(linked), RepositoryId(main));
  EXPECT_EQ(RepositoryId(tree.root() + "/no-repo"), tree.root() + "/no-repo");
}

struct HeaderCase {
  std::string name;
  std::string value;
};

TEST(CredentialHeaders, AreRejectedInEveryFileAndFlagWithoutEchoingTheValue) {
  const HeaderCase kCredentials[] = {
      {"Authorization", "Bearer abc"},
      {"Proxy-Authorization", "Basic dXNlcjpwYXNz"},
      {"x-api-key", "plain"},
      {"api-key", "plain"},
      {"Cookie", "session=1"},
      {"x-goog-api-key", "plain"},
      {"X-Auth-Token", "plain"},
      {"X-Custom", "sk-proj-0123456789abcdefghij"},
      {"X-Custom", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"},
      {"X-Custom", "bearer lowercase-works-too"},
  };
  for (const HeaderCase& c : kCredentials) {
    TempTree tree;
    std::string line = "\"" + c.name + "\" = \"" + c.value + "\"\n";
    TempTree::Write(tree.user_file(), "[providers.groq.headers]\n" + line);
    Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
    ASSERT_FALSE(loaded) << c.name << " was accepted";
    EXPECT_THAT(loaded.error().message(),
                HasSubstr(tree.user_file() + ":2: providers.groq.headers." + c.name +
                          ": a header that carries a credential"));
    EXPECT_THAT(loaded.error().message(), Not(HasSubstr(c.value)));

    TempTree flag_tree;
    Result<LoadedConfig> flagged =
        LoadConfig(flag_tree.Inputs({}, {"providers.groq.headers." + c.name + "=" + c.value}));
    ASSERT_FALSE(flagged) << c.name << " was accepted from a flag";
    EXPECT_THAT(flagged.error().message(), Not(HasSubstr(c.value)));
  }
}

TEST(CredentialHeaders, OrdinaryHeadersStayAllowed) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.anthropic.headers]\nanthropic-beta = \"prompt-caching-2024-07-31\"\n"
                  "[providers.groq.headers]\nHTTP-Referer = \"https://tandem.example/app\"\n"
                  "X-Title = \"tandem\"\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.providers.at("groq").settings.headers.at("X-Title"), "tandem");
}

// verify.md's grants, as cli/gates.cc hands them over: one GatedKey per grant.
std::vector<GatedKey> Grants(const std::string& verify_md) {
  return {{"gate 'it': network", {verify_md, 4}, "lets the gate reach the network"},
          {"gate 'it': env AWS_SECRET_ACCESS_KEY", {verify_md, 4}, "hands the gate $AWS_..."}};
}

// Records `fingerprint` as trusted grants of the repository, as `tandem trust` does.
void TrustGrants(const TempTree& tree, std::string_view fingerprint) {
  TempTree::Write(TrustStorePath(tree.Inputs()),
                  FormatTrustStore({{RepositoryId(tree.repo()), tree.repo_file(), "",
                                     tree.repo() + "/verify.md", Sha256Hex(fingerprint)}}));
}

TEST(GrantsTrust, UntrustedGrantsAreRefusedNamingEachGrantItsLineAndTheCommand) {
  TempTree tree;
  std::string verify_md = tree.repo() + "/verify.md";
  auto trust = CheckGrants(TrustStorePath(tree.Inputs()), tree.repo(), verify_md, "fp",
                           Grants(verify_md));
  ASSERT_TRUE(trust) << trust.error().ToString();
  EXPECT_EQ(trust->state, RepoTrust::State::kUntrusted);
  Status refused = RefuseUntrustedGrants(*trust);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr(verify_md + ": this repository's verify.md grants"));
  EXPECT_THAT(refused.message(), HasSubstr("run `tandem trust`"));
  EXPECT_THAT(refused.message(), HasSubstr(verify_md + ":4: gate 'it': network: "));
  EXPECT_THAT(refused.message(), HasSubstr(verify_md + ":4: gate 'it': env AWS_SECRET_ACCESS_KEY"));
}

TEST(GrantsTrust, TrustedGrantsPassAndChangedOnesAskAgain) {
  TempTree tree;
  std::string verify_md = tree.repo() + "/verify.md";
  TrustGrants(tree, "fp");
  std::string store = TrustStorePath(tree.Inputs());
  auto trusted = CheckGrants(store, tree.repo(), verify_md, "fp", Grants(verify_md));
  ASSERT_TRUE(trusted) << trusted.error().ToString();
  EXPECT_EQ(trusted->state, RepoTrust::State::kTrusted);
  EXPECT_TRUE(RefuseUntrustedGrants(*trusted).ok());

  auto changed = CheckGrants(store, tree.repo(), verify_md, "fp2", Grants(verify_md));
  ASSERT_TRUE(changed) << changed.error().ToString();
  EXPECT_EQ(changed->state, RepoTrust::State::kChanged);
  EXPECT_THAT(RefuseUntrustedGrants(*changed).message(), HasSubstr("changed since you trusted"));
}

TEST(GrantsTrust, NoGrantNeedsNoTrustAndNoStore) {
  TempTree tree;
  auto trust = CheckGrants("", tree.repo(), tree.repo() + "/verify.md", "", {});
  ASSERT_TRUE(trust) << trust.error().ToString();
  EXPECT_EQ(trust->state, RepoTrust::State::kNotNeeded);
  EXPECT_TRUE(RefuseUntrustedGrants(*trust).ok());
}

// Trusting verify.md's grants does not trust the configuration file, nor
// the other way round: each hash vouches for its own part.
TEST(GrantsTrust, TrustedGrantsAndATrustedConfigFileAreSeparate) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[sandbox]\nmode = \"none\"\n");
  TrustGrants(tree, "fp");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_FALSE(loaded) << "trusting grants trusted the configuration file";
  EXPECT_THAT(loaded.error().message(), HasSubstr("is not trusted"));

  TrustRepoFile(tree);
  std::string verify_md = tree.repo() + "/verify.md";
  auto grants = CheckGrants(TrustStorePath(tree.Inputs()), tree.repo(), verify_md, "fp",
                            Grants(verify_md));
  ASSERT_TRUE(grants) << grants.error().ToString();
  EXPECT_EQ(grants->state, RepoTrust::State::kUntrusted);
}

TEST(GrantsTrust, AMalformedTrustStoreIsAnError) {
  TempTree tree;
  std::string store = TrustStorePath(tree.Inputs());
  TempTree::Write(store, "[[repository]]\ngit_dir = \"/x/.git\"\n");
  auto trust = CheckGrants(store, tree.repo(), tree.repo() + "/verify.md", "fp",
                           Grants(tree.repo() + "/verify.md"));
  ASSERT_FALSE(trust);
  EXPECT_THAT(trust.error().message(), HasSubstr(store + ":1: not a valid trust store"));
}

}  // namespace
}  // namespace tandem::config
