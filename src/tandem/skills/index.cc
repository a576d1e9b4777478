#include "tandem/skills/index.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tandem/base/strings.h"
#include "tandem/tools/text.h"

namespace tandem::skills {
namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

bool IsStopWord(std::string_view w) {
  static constexpr std::string_view kStop[] = {
      "a",    "an",   "and", "are",  "as",   "at",   "be",   "by",    "for",  "from",
      "how",  "in",   "into", "is",  "it",   "its",  "of",   "on",    "or",   "so",
      "that", "the",  "then", "this", "to",  "use",  "when", "with",  "we",   "you",
      "your", "it's", "do",  "does", "can",  "will", "should", "all", "any",  "new"};
  return std::find(std::begin(kStop), std::end(kStop), w) != std::end(kStop);
}

void AddTokens(std::string_view text, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) continue;
    std::string w(text.substr(start, i - start));
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (IsStopWord(w)) continue;
    if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's') w.pop_back();
    out.push_back(std::move(w));
  }
}

int64_t TokensOf(std::string_view text) { return EstimateTextTokens(text); }

}  // namespace

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  AddTokens(text, out);
  return out;
}

SkillIndex SkillIndex::Build(const std::vector<SkillDoc>& docs) {
  SkillIndex index;
  index.doc_length_.reserve(docs.size());
  uint64_t total = 0;
  std::unordered_map<std::string, uint32_t> tf;
  for (size_t d = 0; d < docs.size(); ++d) {
    tf.clear();
    std::vector<std::string> tokens;
    AddTokens(docs[d].name, tokens);
    size_t name_tokens = tokens.size();
    for (size_t t = 0; t < name_tokens; ++t) tokens.push_back(tokens[t]);  // counts twice
    AddTokens(docs[d].description, tokens);
    AddTokens(docs[d].paths, tokens);
    for (const std::string& t : tokens) ++tf[t];
    for (const auto& [term, n] : tf) {
      index.postings_[term].push_back({static_cast<uint32_t>(d), n});
    }
    index.doc_length_.push_back(static_cast<uint32_t>(tokens.size()));
    total += tokens.size();
  }
  index.average_length_ = docs.empty() ? 0 : static_cast<double>(total) / docs.size();
  return index;
}

SkillIndex SkillIndex::Build(const Catalog& catalog) {
  std::vector<SkillDoc> docs;
  docs.reserve(catalog.skills.size());
  for (const FoundSkill& s : catalog.skills) {
    docs.push_back({s.skill.name, s.skill.description, s.skill.Meta("tandem-paths")});
  }
  return Build(docs);
}

std::vector<SkillIndex::Hit> SkillIndex::Search(std::string_view query, size_t k) const {
  std::vector<std::string> terms = Tokenize(query);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  std::vector<double> scores(doc_length_.size(), 0.0);
  std::vector<uint32_t> touched;
  const double n = static_cast<double>(doc_length_.size());
  for (const std::string& term : terms) {
    auto it = postings_.find(term);
    if (it == postings_.end()) continue;
    const double df = static_cast<double>(it->second.size());
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const Posting& p : it->second) {
      const double tf = p.tf;
      const double norm = 1.0 - kB + kB * doc_length_[p.doc] / std::max(average_length_, 1.0);
      if (scores[p.doc] == 0) touched.push_back(p.doc);
      scores[p.doc] += idf * tf * (kK1 + 1) / (tf + kK1 * norm);
    }
  }
  std::vector<Hit> hits;
  hits.reserve(touched.size());
  for (uint32_t d : touched) {
    if (scores[d] > 0) hits.push_back({d, scores[d]});
  }
  auto better = [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  };
  if (hits.size() > k) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(), better);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), better);
  }
  return hits;
}

namespace {

std::string SkillBlock(const FoundSkill& s, std::string_view body) {
  return fmt::format("<skill name=\"{}\" source=\"{}\" verified=\"{}\">\n{}\n\n{}{}</skill>\n",
                     s.skill.name, s.shown, s.captured() ? "yes" : "no", s.skill.description,
                     body, body.empty() || body.back() == '\n' ? "" : "\n");
}

constexpr std::string_view kHeader =
    "<skills>\nSkills that fit this task (procedures that worked before; follow one where it "
    "fits, check it against the repository as it is now):\n";
constexpr std::string_view kFooter = "</skills>\n";

}  // namespace

Result<Selection> Select(const Catalog& catalog, const SkillIndex& index, std::string_view query,
                         const SelectOptions& options) {
  Selection out;
  std::string blocks;
  int64_t used = TokensOf(kHeader) + TokensOf(kFooter);
  auto take = [&](const FoundSkill& s, double score, bool forced) {
    PickedSkill p;
    p.name = s.skill.name;
    p.shown = s.shown;
    p.score = score;
    p.forced = forced;
    p.verified = s.captured();
    std::string block = SkillBlock(s, s.skill.body);
    int64_t tokens = TokensOf(block);
    if (used + tokens > options.token_budget) {
      if (!forced) return false;
      // Cut the body to what is left (at least the description goes in).
      int64_t room = std::max<int64_t>(0, options.token_budget - used - TokensOf(SkillBlock(s, "")) - 8);
      std::string cut(tools::Utf8Truncate(s.skill.body, static_cast<size_t>(room) * 4));
      block = SkillBlock(s, cut + "\n[... cut to fit skills.token_budget]\n");
      tokens = TokensOf(block);
      p.truncated = true;
    }
    p.tokens = tokens;
    used += tokens;
    blocks += block;
    out.picked.push_back(std::move(p));
    return true;
  };
  for (const std::string& name : options.forced) {
    const FoundSkill* s = catalog.Find(name);
    if (!s) {
      std::string known;
      for (const auto& f : catalog.skills) known += (known.empty() ? "" : ", ") + f.skill.name;
      return NotFound(fmt::format("no skill named '{}' (found: {})", name,
                                  known.empty() ? "none" : known));
    }
    if (std::any_of(out.picked.begin(), out.picked.end(),
                    [&](const PickedSkill& p) { return p.name == name; })) {
      continue;
    }
    take(*s, 0, true);
  }
  if (out.picked.size() < options.max_skills) {
    for (const SkillIndex::Hit& hit : index.Search(query, options.max_skills + options.excluded.size() + out.picked.size())) {
      if (out.picked.size() >= options.max_skills) break;
      if (hit.score < options.min_score || hit.doc >= catalog.skills.size()) continue;
      const FoundSkill& s = catalog.skills[hit.doc];
      bool excluded = std::find(options.excluded.begin(), options.excluded.end(), s.skill.name) !=
                      options.excluded.end();
      bool already = std::any_of(out.picked.begin(), out.picked.end(),
                                 [&](const PickedSkill& p) { return p.name == s.skill.name; });
      if (excluded || already) continue;
      take(s, hit.score, false);
    }
  }
  for (PickedSkill& p : out.picked) {
    if (p.forced && p.score == 0) {
      // Report the forced skill's own score for the record, when it matched.
      for (const auto& hit : index.Search(query, catalog.skills.size())) {
        if (catalog.skills[hit.doc].skill.name == p.name) p.score = hit.score;
      }
    }
  }
  if (!out.picked.empty()) out.text = std::string(kHeader) + blocks + std::string(kFooter);
  return out;
}

}  // namespace tandem::skills
