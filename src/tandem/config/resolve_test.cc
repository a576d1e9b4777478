#include "tandem/config/resolve.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tandem/base/redact.h"
#include "tandem/config/discovery.h"
#include "tandem/config/doctor.h"
#include "tandem/config/test_util.h"

namespace tandem::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Load;
using testing::TempTree;

// Shaped like no known key prefix, so only registration can redact it.
constexpr char kSecret[] = "Vt9rQm2Lx8Kp4Nw7Hs1Jd6Fg";


// Every string a doctor report holds, joined.
std::string Flatten(const DoctorReport& r) {
  std::string out;
  for (const auto& f : r.files) out += f.path + "\n";
  for (const auto& k : r.key_vars) {
    out += k.name + "\n";
    for (const auto& p : k.providers) out += p + "\n";
  }
  for (const auto& s : r.servers) out += s.name + s.label + s.base_url + s.error + "\n";
  for (const auto& role : r.roles) {
    out += role.model_name + role.set_by + role.provider + role.model_id + role.base_url +
           role.problem + "\n";
  }
  for (const auto& m : r.missing) out += m + "\n";
  return out;
}

TEST(Resolve, RoleResolvesToProviderSettingsWithTheKey) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.cerebras]\nmax_concurrent_requests = 64\nheaders = { X-Team = \"core\" }\n"
                  "[models.fast]\nprovider = \"cerebras\"\nid = \"gpt-oss-120b\"\n"
                  "price_input = 0.35\n[roles]\nexecutor = \"fast\"\n");
  Env env{{"CEREBRAS_API_KEY", kSecret}};
  LoadedConfig loaded = Load(tree, env);
  Result<ResolvedModel> r = ResolveRole(loaded.config, env, Role::kExecutor);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->model_name, "fast");
  EXPECT_EQ(r->model.id, "gpt-oss-120b");
  EXPECT_DOUBLE_EQ(r->model.price_input, 0.35);
  EXPECT_EQ(r->provider.name, "cerebras");
  EXPECT_EQ(r->provider.base_url, "https://api.cerebras.ai/v1");
  EXPECT_EQ(r->provider.wire, providers::WireFormat::kOpenAI);
  EXPECT_EQ(r->provider.api_key, kSecret);
  EXPECT_EQ(r->provider.limits.max_concurrent_requests, 64);
  EXPECT_EQ(r->provider.headers.at("X-Team"), "core");
  EXPECT_FALSE(r->options.fast_mode);
  // Resolving registered the key: it can no longer reach any text.
  EXPECT_EQ(Redactor::Apply(std::string("key=") + kSecret), "key=[REDACTED]");
}

TEST(Resolve, MissingKeyNamesRoleModelProviderAndVariable) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[models.fast]\nprovider = \"cerebras\"\n[roles]\nexecutor = \"fast\"\n");
  LoadedConfig loaded = Load(tree, {});
  Result<ResolvedModel> r = ResolveRole(loaded.config, {}, Role::kExecutor);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "role executor: model 'fast' uses provider 'cerebras' whose key env var "
            "CEREBRAS_API_KEY is not set");
}

TEST(Resolve, UnsetRoleAndUnknownModel) {
  TempTree tree;
  LoadedConfig loaded = Load(tree, {});
  Result<ResolvedModel> unset = ResolveRole(loaded.config, {}, Role::kPlanner);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(unset.error().message(), HasSubstr("role planner: no model is configured"));

  Result<ResolvedModel> unknown = ResolveModel(loaded.config, {}, "gpt-9");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.error().message(), HasSubstr("model 'gpt-9' is not defined"));
  EXPECT_THAT(unknown.error().message(), HasSubstr("claude-opus"));
}

TEST(Resolve, FastModeModelCarriesTheOption) {
  TempTree tree;
  Env env{{"ANTHROPIC_API_KEY", kSecret}};
  LoadedConfig loaded = Load(tree, env);
  Result<ResolvedModel> r = ResolveModel(loaded.config, env, "claude-opus-fast");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->options.fast_mode);
  EXPECT_EQ(r->provider.wire, providers::WireFormat::kAnthropic);
  EXPECT_EQ(r->provider.base_url, "https://api.anthropic.com/v1");
}

TEST(Doctor, ReportsFilesKeysServersAndEveryRole) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[roles]\nplanner = \"claude-opus\"\n");
  Env env{{"CEREBRAS_API_KEY", kSecret}};
  LoadedConfig loaded = Load(tree, env);
  DiscoveryReport discovery = Discover(loaded, env,
                                       [](const std::string&) -> Result<std::vector<std::string>> {
                                         return Unavailable("connection refused");
                                       },
                                       {.always_probe = true});
  DoctorReport report = BuildDoctorReport(loaded, discovery, env);

  ASSERT_EQ(report.files.size(), 2u);
  EXPECT_FALSE(report.files[0].loaded);
  EXPECT_TRUE(report.files[1].loaded);
  auto key = std::find_if(report.key_vars.begin(), report.key_vars.end(),
                          [](const auto& k) { return k.name == "CEREBRAS_API_KEY"; });
  ASSERT_NE(key, report.key_vars.end());
  EXPECT_TRUE(key->present);
  EXPECT_EQ(key->providers, std::vector<std::string>{"cerebras"});
  auto anthropic = std::find_if(report.key_vars.begin(), report.key_vars.end(),
                                [](const auto& k) { return k.name == "ANTHROPIC_API_KEY"; });
  ASSERT_NE(anthropic, report.key_vars.end());
  EXPECT_FALSE(anthropic->present);
  EXPECT_TRUE(report.probed);
  EXPECT_EQ(report.servers.size(), 3u);

  ASSERT_EQ(report.roles.size(), 3u);
  const auto& planner = report.roles[0];
  EXPECT_EQ(planner.role, Role::kPlanner);
  EXPECT_EQ(planner.model_name, "claude-opus");
  EXPECT_EQ(planner.set_by, tree.repo_file() + ":2");
  EXPECT_FALSE(planner.ok);
  EXPECT_EQ(planner.problem,
            "role planner: model 'claude-opus' uses provider 'anthropic' whose key env var "
            "ANTHROPIC_API_KEY is not set");
  const auto& executor = report.roles[1];
  EXPECT_TRUE(executor.ok);
  EXPECT_EQ(executor.model_name, "cerebras-gpt-oss");
  EXPECT_EQ(executor.model_id, "gpt-oss-120b");
  EXPECT_EQ(executor.base_url, "https://api.cerebras.ai/v1");
  EXPECT_EQ(executor.set_by, "discovered (CEREBRAS_API_KEY is set)");
  EXPECT_EQ(report.roles[2].model_name, "claude-opus");  // reviewer follows the planner
  EXPECT_FALSE(report.all_roles_served);
  // Planner and reviewer fail the same way: one line names both.
  EXPECT_EQ(report.missing,
            std::vector<std::string>{"planner, reviewer: model 'claude-opus' uses provider "
                                     "'anthropic' whose key env var ANTHROPIC_API_KEY is not set"});

  EXPECT_THAT(Flatten(report), Not(HasSubstr(kSecret)));
}

TEST(Doctor, UnsetRolesShareOneHintInsteadOfRepeatingIt) {
  TempTree tree;
  Env env;  // no key, no config, nothing discovered
  LoadedConfig loaded = Load(tree, env);
  DoctorReport report = BuildDoctorReport(loaded, Discover(loaded, env, nullptr), env);
  EXPECT_FALSE(report.all_roles_served);
  ASSERT_EQ(report.roles.size(), 3u);
  EXPECT_EQ(report.roles[0].problem, "role planner: no model is configured (roles.planner is unset)");
  ASSERT_EQ(report.missing.size(), 1u);
  EXPECT_EQ(report.missing[0], "planner, executor, reviewer: no model is configured; set "
                               "roles.<role> in a config file, or " +
                                   std::string(kNoModelHint));
  std::string text = Flatten(report);
  EXPECT_EQ(text.find(kNoModelHint), text.rfind(kNoModelHint)) << text;
}

TEST(Doctor, AllRolesServed) {
  TempTree tree;
  Env env{{"GROQ_API_KEY", kSecret}, {"ANTHROPIC_API_KEY", std::string(kSecret) + "2"}};
  LoadedConfig loaded = Load(tree, env);
  DiscoveryReport discovery = Discover(loaded, env, nullptr);
  DoctorReport report = BuildDoctorReport(loaded, discovery, env);
  EXPECT_TRUE(report.all_roles_served);
  EXPECT_TRUE(report.missing.empty());
  EXPECT_FALSE(report.probed);
  std::string text = Flatten(report);
  EXPECT_THAT(text, Not(HasSubstr(kSecret)));
}

TEST(Secrets, KeyValueNeverAppearsInResolutionErrors) {
  TempTree tree;
  // A provider whose key variable is set, used by a model whose role is
  // misconfigured in every way resolution can report.
  TempTree::Write(tree.user_file(),
                  "[providers.p]\nbase_url = \"http://127.0.0.1:1/v1\"\napi_key_env = \"P_KEY\"\n"
                  "[models.m]\nprovider = \"p\"\n");
  Env env{{"P_KEY", kSecret}, {"CEREBRAS_API_KEY", ""}};
  LoadedConfig loaded = Load(tree, env);
  std::vector<Status> errors;
  errors.push_back(ResolveRole(loaded.config, env, Role::kExecutor).error());
  errors.push_back(ResolveModel(loaded.config, env, "missing").error());
  errors.push_back(ResolveModel(loaded.config, env, "cerebras-gpt-oss").error());
  loaded.config.models["m"].provider = "gone";
  errors.push_back(ResolveModel(loaded.config, env, "m").error());
  for (const Status& s : errors) {
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.ToString(), Not(HasSubstr(kSecret)));
  }
}


TEST(ResolvePool, ARoleNamingAPoolResolvesItsMembersWithinThePriceLimits) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.a]\nbase_url = \"http://127.0.0.1:9/v1\"\n"
                  "[models.cheap]\nprovider = \"a\"\nprice_output = 1.0\n"
                  "[models.pricey]\nprovider = \"a\"\nprice_output = 30.0\n"
                  "[models.mid]\nprovider = \"a\"\nprice_output = 4.0\n"
                  "[pools.duo]\nmodels = [\"pricey\", \"mid\", \"cheap\"]\n"
                  "max_price_output = 5.0\n[roles]\nexecutor = \"duo\"\n");
  Env env;
  LoadedConfig loaded = Load(tree, env);
  Result<std::vector<ResolvedModel>> members = ResolvePool(loaded.config, env, "duo");
  ASSERT_TRUE(members) << members.error().ToString();
  ASSERT_EQ(members->size(), 2u);  // "pricey" is over max_price_output
  EXPECT_EQ((*members)[0].model_name, "mid");
  EXPECT_EQ((*members)[1].model_name, "cheap");
  // The role resolves to the first member within the limits, named after the pool.
  Result<ResolvedModel> role = ResolveRole(loaded.config, env, Role::kExecutor);
  ASSERT_TRUE(role) << role.error().ToString();
  EXPECT_EQ(role->model_name, "duo");
  EXPECT_EQ(role->model.id, "mid");
  EXPECT_FALSE(ResolvePool(loaded.config, env, "nope").has_value());
}

}  // namespace
}  // namespace tandem::config
