// Skill retrieval: Okapi BM25 (k1 = 1.2, b = 0.75) over each skill's name,
// description and paths (metadata `tandem-paths`), the ranking
// docs/SKILLS.md documents. No network, no embedding model.
//
// Tokens: runs of ASCII letters and digits, lowercased (so `src/date_parse.cc`
// gives src, date, parse, cc), with a short list of English stop words
// dropped and a plural 's' stripped from words longer than three letters.
// A name token counts twice (a skill's name is its most specific words).
//
// Cost: Build is linear in the text; Search touches only the postings of
// the query's terms (about 20 us for 1,000 skills, docs/PERFORMANCE.md).
// Thread-safety: a built index is immutable; Search may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tandem/skills/catalog.h"

namespace tandem::skills {

// The tokens of `text` as the index sees them.
std::vector<std::string> Tokenize(std::string_view text);

struct SkillDoc {
  std::string_view name;
  std::string_view description;
  std::string_view paths;
};

class SkillIndex {
 public:
  struct Hit {
    size_t doc = 0;  // index into the documents given to Build
    double score = 0;
  };

  static SkillIndex Build(const std::vector<SkillDoc>& docs);
  static SkillIndex Build(const Catalog& catalog);

  // The best `k` documents for `query` with a score above zero, best first
  // (ties: the earlier document first).
  std::vector<Hit> Search(std::string_view query, size_t k) const;

  size_t size() const { return doc_length_.size(); }

 private:
  struct Posting {
    uint32_t doc;
    uint32_t tf;
  };
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::vector<uint32_t> doc_length_;
  double average_length_ = 0;
};

// What the executor's first request gets (Select).
struct SelectOptions {
  size_t max_skills = 3;          // skills.max_injected
  int64_t token_budget = 2000;    // skills.token_budget: all injected text together
  double min_score = 1.0;         // skills.min_score: weaker matches are left out
  std::vector<std::string> forced;    // `tandem do --skill NAME`: always first, whatever the score
  std::vector<std::string> excluded;  // flagged skills: never picked by the ranking
};

struct PickedSkill {
  std::string name;
  std::string shown;   // where it was found
  double score = 0;    // BM25 (0 for a forced skill that did not match)
  bool forced = false;
  bool verified = false;  // captured from a verified run
  int64_t tokens = 0;     // of its injected text
  bool truncated = false; // a forced skill cut to fit the budget
};

struct Selection {
  std::vector<PickedSkill> picked;
  std::string text;  // the <skills> block for the first user message; empty when none
};

// Picks skills for task `query` (the task's words and its scope paths):
// forced ones first, then the ranking's best above min_score, each whole
// (SKILL.md's description and body) while the budget lasts (a skill that
// does not fit is skipped for a smaller one; a forced skill that alone does
// not fit is cut). NotFound names a forced skill the catalog lacks.
Result<Selection> Select(const Catalog& catalog, const SkillIndex& index, std::string_view query,
                         const SelectOptions& options);

}  // namespace tandem::skills
