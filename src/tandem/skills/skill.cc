#include "tandem/skills/skill.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "tandem/base/strings.h"
#include "tandem/tools/text.h"

namespace tandem::skills {
namespace {

// The file split into lines (without their "\n" and the carriage returns
// before it: "\r\n", "\r\r\n"), numbered from 1. All of them: a body line
// kept ending in "\r" would lose it when RenderSkill's file is read again.
struct Lines {
  std::vector<std::string_view> text;
  size_t size() const { return text.size(); }
  std::string_view operator[](size_t i) const { return text[i]; }
};

Lines SplitLines(std::string_view s) {
  Lines lines;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    while (line.ends_with('\r')) line.remove_suffix(1);
    lines.text.push_back(line);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return lines;
}

int LineOfOffset(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

size_t Indent(std::string_view line) { return line.find_first_not_of(' ') == std::string_view::npos ? line.size() : line.find_first_not_of(' '); }

bool IsBlankOrComment(std::string_view line) {
  std::string_view t = TrimSpace(line);
  return t.empty() || t.front() == '#';
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

class FrontmatterParser {
 public:
  // `lines[first, end)` are the frontmatter's lines; `first_line` is the file
  // line number of lines[first].
  FrontmatterParser(const Lines& lines, size_t first, size_t end)
      : lines_(lines), i_(first), end_(end) {}

  struct Value {
    int line = 0;
    std::string scalar;                                         // a scalar or a joined list
    std::vector<std::pair<std::string, std::string>> map;       // a one-level map
    bool is_map = false;
  };

  Result<std::map<std::string, Value>, SkillError> Parse() {
    for (size_t j = i_; j < end_; ++j) {
      std::string_view l = lines_[j];
      if (l.substr(0, l.find_first_not_of(" \t")).find('\t') != std::string_view::npos) {
        return Unexpected(SkillError{static_cast<int>(j) + 1,
                                     "a tab in indentation (YAML allows spaces only)"});
      }
    }
    std::map<std::string, Value> out;
    while (i_ < end_) {
      std::string_view line = lines_[i_];
      if (IsBlankOrComment(line)) {
        ++i_;
        continue;
      }
      if (Indent(line) != 0) return Err("unexpected indentation; expected 'key: value'");
      auto key_value = SplitKey(line);
      if (!key_value) return Err(key_value.error());
      auto [key, rest] = *key_value;
      if (out.contains(key)) return Err(fmt::format("duplicate key '{}'", key));
      int key_line = Line();
      ++i_;
      Value value;
      value.line = key_line;
      auto parsed = ParseValue(rest, 0, &value);
      if (!parsed.ok()) return Unexpected(SkillError{error_line_, parsed.message()});
      out.emplace(std::string(key), std::move(value));
    }
    return out;
  }

 private:
  int Line() const { return static_cast<int>(i_) + 1; }
  Unexpected<SkillError> Err(std::string message) const {
    return Unexpected(SkillError{Line(), std::move(message)});
  }
  Status Fail(int line, std::string message) {
    error_line_ = line;
    return InvalidArgument(std::move(message));
  }

  // "key: rest" -> (key, rest). Keys: letters, digits, '-', '_', '.'.
  static Result<std::pair<std::string, std::string_view>, std::string> SplitKey(
      std::string_view line) {
    line = line.substr(Indent(line));
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Unexpected(std::string("expected 'key: value'"));
    }
    std::string_view key = line.substr(0, colon);
    for (char c : key) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
        return Unexpected(fmt::format("'{}' is not a key tandem reads (letters, digits, '-', '_', '.')",
                                      tools::IsValidUtf8(key) ? std::string(key) : "?"));
      }
    }
    std::string_view rest = line.substr(colon + 1);
    if (!rest.empty() && rest.front() != ' ') {
      return Unexpected(std::string("expected a space after ':'"));
    }
    return std::pair<std::string, std::string_view>{std::string(key), TrimSpace(rest)};
  }

  // A value after "key:" at indentation `indent`; reads continuation lines.
  Status ParseValue(std::string_view rest, size_t indent, Value* value) {
    int line = static_cast<int>(i_);  // the key's line (i_ already past it)
    if (!rest.empty() && rest.front() == '#') rest = {};
    if (rest.empty()) {
      // A nested block, or nothing (an empty value).
      size_t j = NextContent();
      if (j >= end_ || Indent(lines_[j]) <= indent) return Status::Ok();
      if (indent > 0) return Fail(static_cast<int>(j) + 1, "nesting deeper than one level is not supported");
      size_t child = Indent(lines_[j]);
      std::string_view first = lines_[j].substr(child);
      if (first.starts_with("- ") || first == "-") return ParseList(child, value);
      return ParseMap(child, value);
    }
    if (rest.front() == '|' || rest.front() == '>') return ParseBlockScalar(rest, indent, line, value);
    if (rest.front() == '[' || rest.front() == '{' || rest.front() == '&' ||
        rest.front() == '*' || rest.front() == '!') {
      return Fail(line, fmt::format("flow collections, anchors and tags are not supported ('{}')",
                                    rest.front()));
    }
    if (rest.front() == '"' || rest.front() == '\'') return ParseQuoted(rest, indent, line, value);
    return ParsePlain(rest, indent, value);
  }

  size_t NextContent() const {
    size_t j = i_;
    while (j < end_ && IsBlankOrComment(lines_[j])) ++j;
    return j;
  }

  Status ParseMap(size_t child, Value* value) {
    value->is_map = true;
    while (true) {
      size_t j = NextContent();
      if (j >= end_ || Indent(lines_[j]) < child) return Status::Ok();
      i_ = j;
      if (Indent(lines_[j]) != child) return Fail(Line(), "inconsistent indentation in a map");
      auto key_value = SplitKey(lines_[j]);
      if (!key_value) return Fail(Line(), key_value.error());
      auto [key, rest] = *key_value;
      for (const auto& [k, v] : value->map) {
        if (k == key) return Fail(Line(), fmt::format("duplicate key '{}'", key));
      }
      ++i_;
      Value inner;
      RETURN_IF_ERROR(ParseValue(rest, child, &inner));
      value->map.emplace_back(std::string(key), std::move(inner.scalar));
    }
  }

  Status ParseList(size_t child, Value* value) {
    std::vector<std::string> items;
    while (true) {
      size_t j = NextContent();
      if (j >= end_ || Indent(lines_[j]) < child) break;
      i_ = j;
      std::string_view item = lines_[j].substr(Indent(lines_[j]));
      if (Indent(lines_[j]) != child || !(item.starts_with("- ") || item == "-")) {
        return Fail(Line(), "expected '- item' in a list");
      }
      ++i_;
      Value inner;
      std::string_view rest = TrimSpace(item.substr(1));
      if (rest.empty()) return Fail(static_cast<int>(i_), "an empty list item");
      RETURN_IF_ERROR(ParseValue(rest, child + 1, &inner));
      if (inner.is_map) return Fail(static_cast<int>(i_), "a map inside a list is not supported");
      items.push_back(std::move(inner.scalar));
    }
    for (const auto& item : items) value->scalar += (value->scalar.empty() ? "" : " ") + item;
    return Status::Ok();
  }

  // A plain scalar, folded with the more-indented lines that follow.
  Status ParsePlain(std::string_view rest, size_t indent, Value* value) {
    int line = static_cast<int>(i_);
    if (size_t hash = rest.find(" #"); hash != std::string_view::npos) rest = TrimSpace(rest.substr(0, hash));
    if (rest.find(": ") != std::string_view::npos || rest.ends_with(':')) {
      return Fail(line, "a plain value may not contain ': ' (quote it)");
    }
    value->scalar = std::string(rest);
    while (i_ < end_ && !IsBlankOrComment(lines_[i_]) && Indent(lines_[i_]) > indent) {
      std::string_view more = TrimSpace(lines_[i_]);
      if (more.find(": ") != std::string_view::npos) {
        return Fail(Line(), "a plain value may not contain ': ' (quote it)");
      }
      value->scalar += ' ';
      value->scalar += more;
      ++i_;
    }
    return Status::Ok();
  }

  Status ParseQuoted(std::string_view rest, size_t indent, int line, Value* value) {
    // Gather the quoted text, possibly across lines (folded with spaces).
    char quote = rest.front();
    std::string text(rest.substr(1));
    int first_line = line;
    std::string out;
    while (true) {
      size_t k = 0;
      bool closed = false;
      while (k < text.size()) {
        char c = text[k];
        if (quote == '\'' && c == '\'') {
          if (k + 1 < text.size() && text[k + 1] == '\'') {
            out += '\'';
            k += 2;
            continue;
          }
          closed = true;
          break;
        }
        if (quote == '"' && c == '"') {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\') {
          if (k + 1 >= text.size()) return Fail(first_line, "a '\\' at the end of a line");
          char e = text[k + 1];
          k += 2;
          switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '0': out += '\0'; break;
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case ' ': out += ' '; break;
            case 'u':
            case 'U':
            case 'x': {
              size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
              if (k + digits > text.size()) return Fail(first_line, "a short \\u escape");
              uint32_t cp = 0;
              for (size_t d = 0; d < digits; ++d) {
                char h = text[k + d];
                int v = std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                        : (h >= 'a' && h <= 'f')                   ? h - 'a' + 10
                        : (h >= 'A' && h <= 'F')                   ? h - 'A' + 10
                                                                   : -1;
                if (v < 0) return Fail(first_line, "a bad hex digit in an escape");
                cp = cp * 16 + static_cast<uint32_t>(v);
              }
              k += digits;
              if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return Fail(first_line, "an escape that is not a Unicode scalar value");
              }
              AppendUtf8(out, cp);
              break;
            }
            default:
              return Fail(first_line,
                          static_cast<unsigned char>(e) >= 0x21 && static_cast<unsigned char>(e) < 0x7f
                              ? fmt::format("unknown escape '\\{}'", e)
                              : fmt::format("unknown escape '\\' + byte 0x{:02x}",
                                            static_cast<unsigned char>(e)));
          }
          continue;
        }
        out += c;
        ++k;
      }
      if (closed) {
        std::string_view after = TrimSpace(std::string_view(text).substr(k + 1));
        if (!after.empty() && after.front() != '#') {
          return Fail(static_cast<int>(i_), "text after the closing quote");
        }
        value->scalar = std::move(out);
        return Status::Ok();
      }
      // Continues on the next line.
      if (i_ >= end_ || (Indent(lines_[i_]) <= indent && !TrimSpace(lines_[i_]).empty())) {
        return Fail(first_line, "an unclosed quoted value");
      }
      std::string_view next = TrimSpace(lines_[i_]);
      ++i_;
      out += next.empty() ? "\n" : " ";
      text = std::string(next);
    }
  }

  Status ParseBlockScalar(std::string_view rest, size_t indent, int line, Value* value) {
    bool folded = rest.front() == '>';
    char chomp = 0;
    std::string_view flags = rest.substr(1);
    if (size_t hash = flags.find(" #"); hash != std::string_view::npos) flags = flags.substr(0, hash);
    flags = TrimSpace(flags);
    if (flags == "-" || flags == "+") {
      chomp = flags[0];
    } else if (!flags.empty()) {
      return Fail(line, fmt::format("block scalar indicators '{}' are not supported (use |, |-, >, >-)",
                                    tools::IsValidUtf8(flags) ? std::string(flags) : "?"));
    }
    size_t block_indent = 0;
    std::vector<std::string_view> parts;
    while (i_ < end_) {
      std::string_view l = lines_[i_];
      if (TrimSpace(l).empty()) {
        parts.push_back({});
        ++i_;
        continue;
      }
      size_t ind = Indent(l);
      if (block_indent == 0) {
        if (ind <= indent) break;
        block_indent = ind;
      }
      if (ind < block_indent) {
        if (ind > indent) return Fail(Line(), "a block scalar line indented less than its first");
        break;
      }
      parts.push_back(l.substr(block_indent));
      ++i_;
    }
    // Trailing blank lines belong to chomping.
    size_t trailing = 0;
    while (!parts.empty() && parts.back().empty()) {
      parts.pop_back();
      ++trailing;
    }
    std::string out;
    for (size_t p = 0; p < parts.size(); ++p) {
      if (p > 0) {
        bool join_with_space = folded && !parts[p - 1].empty() && !parts[p].empty() &&
                               parts[p].front() != ' ' && parts[p - 1].front() != ' ';
        if (!(folded && parts[p - 1].empty())) out += join_with_space ? ' ' : '\n';
      }
      out += parts[p];
    }
    if (!parts.empty() && chomp != '-') out += '\n';
    if (chomp == '+') out.append(trailing, '\n');
    value->scalar = std::move(out);
    return Status::Ok();
  }

  const Lines& lines_;
  size_t i_;
  size_t end_;
  int error_line_ = 0;
};

}  // namespace

std::string_view Skill::Meta(std::string_view key) const {
  for (const auto& [k, v] : metadata) {
    if (k == key) return v;
  }
  return {};
}

void Skill::SetMeta(std::string_view key, std::string value) {
  for (auto& [k, v] : metadata) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata.emplace_back(std::string(key), std::move(value));
}

std::optional<std::string> NameProblem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > kMaxNameChars) {
    return fmt::format("the name has {} characters; at most {}", name.size(), kMaxNameChars);
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return "the name may hold only lowercase letters, digits and '-'";
    }
  }
  if (name.front() == '-' || name.back() == '-') return "the name may not start or end with '-'";
  if (name.find("--") != std::string_view::npos) return "the name may not hold '--'";
  return std::nullopt;
}

Result<Skill, SkillError> ParseSkill(std::string_view text, std::string_view dir_name) {
  if (text.size() > kMaxSkillBytes) {
    return Unexpected(SkillError{1, fmt::format("the file is larger than {} KiB", kMaxSkillBytes / 1024)});
  }
  if (size_t valid = tools::ValidUtf8Prefix(text); valid != text.size()) {
    return Unexpected(SkillError{LineOfOffset(text, valid), "invalid UTF-8"});
  }
  if (text.find('\0') != std::string_view::npos) {
    return Unexpected(SkillError{LineOfOffset(text, text.find('\0')), "a NUL byte"});
  }
  Lines lines = SplitLines(StripUtf8Bom(text));
  if (lines.size() == 0 || TrimSpace(lines[0]) != "---") {
    return Unexpected(SkillError{1, "no YAML frontmatter: the file must start with a '---' line"});
  }
  size_t close = 1;
  while (close < lines.size() && TrimSpace(lines[close]) != "---" &&
         TrimSpace(lines[close]) != "...") {
    ++close;
  }
  if (close >= lines.size()) {
    return Unexpected(SkillError{1, "the frontmatter is not closed by a '---' line"});
  }
  auto fields = FrontmatterParser(lines, 1, close).Parse();
  if (!fields) return Unexpected(fields.error());

  Skill skill;
  auto field = [&](const char* key) -> const FrontmatterParser::Value* {
    auto it = fields->find(key);
    return it == fields->end() ? nullptr : &it->second;
  };
  auto scalar = [&](const char* key, std::string* out) -> std::optional<SkillError> {
    const auto* v = field(key);
    if (!v) return std::nullopt;
    if (v->is_map) return SkillError{v->line, fmt::format("'{}' must be a string, not a map", key)};
    *out = v->scalar;
    return std::nullopt;
  };
  for (const char* key : {"name", "description", "license", "compatibility", "allowed-tools"}) {
    std::string* out = std::string_view(key) == "name"            ? &skill.name
                       : std::string_view(key) == "description"   ? &skill.description
                       : std::string_view(key) == "license"       ? &skill.license
                       : std::string_view(key) == "compatibility" ? &skill.compatibility
                                                                  : &skill.allowed_tools;
    if (auto e = scalar(key, out)) return Unexpected(*e);
  }
  int name_line = field("name") ? field("name")->line : 1;
  if (!field("name")) return Unexpected(SkillError{1, "the frontmatter has no 'name'"});
  if (auto problem = NameProblem(skill.name)) {
    return Unexpected(SkillError{name_line, *problem});
  }
  if (!dir_name.empty() && skill.name != dir_name) {
    return Unexpected(SkillError{name_line, fmt::format("the name '{}' differs from its folder '{}'",
                                                        skill.name, dir_name)});
  }
  if (!field("description")) return Unexpected(SkillError{1, "the frontmatter has no 'description'"});
  int description_line = field("description")->line;
  if (TrimSpace(skill.description).empty()) {
    return Unexpected(SkillError{description_line, "the description is empty"});
  }
  if (size_t n = CountChars(skill.description); n > kMaxDescriptionChars) {
    return Unexpected(SkillError{description_line,
                                 fmt::format("the description has {} characters; at most {}", n,
                                             kMaxDescriptionChars)});
  }
  if (size_t n = CountChars(skill.compatibility); n > kMaxCompatibilityChars) {
    return Unexpected(SkillError{field("compatibility")->line,
                                 fmt::format("compatibility has {} characters; at most {}", n,
                                             kMaxCompatibilityChars)});
  }
  if (const auto* meta = field("metadata")) {
    if (!meta->is_map && !meta->scalar.empty()) {
      return Unexpected(SkillError{meta->line, "'metadata' must be a map of strings"});
    }
    skill.metadata = meta->map;
  }

  skill.body_line = static_cast<int>(close) + 2;
  int body_lines = static_cast<int>(lines.size() - close - 1);
  if (body_lines > kMaxBodyLines) {
    return Unexpected(SkillError{skill.body_line + kMaxBodyLines,
                                 fmt::format("the body has {} lines; at most {}", body_lines,
                                             kMaxBodyLines)});
  }
  for (size_t i = close + 1; i < lines.size(); ++i) {
    skill.body += lines[i];
    skill.body += '\n';
  }
  return skill;
}

namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string RenderSkill(const Skill& skill) {
  std::string out = "---\n";
  out += "name: " + Quote(skill.name) + "\n";
  out += "description: " + Quote(skill.description) + "\n";
  if (!skill.license.empty()) out += "license: " + Quote(skill.license) + "\n";
  if (!skill.compatibility.empty()) out += "compatibility: " + Quote(skill.compatibility) + "\n";
  if (!skill.allowed_tools.empty()) out += "allowed-tools: " + Quote(skill.allowed_tools) + "\n";
  if (!skill.metadata.empty()) {
    out += "metadata:\n";
    for (const auto& [k, v] : skill.metadata) out += "  " + k + ": " + Quote(v) + "\n";
  }
  out += "---\n";
  out += skill.body;
  if (!skill.body.empty() && skill.body.back() != '\n') out += '\n';
  return out;
}

}  // namespace tandem::skills
