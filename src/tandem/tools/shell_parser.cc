#include "tandem/tools/shell_parser.h"

#include <cctype>
#include <set>

namespace tandem::tools {
namespace {

constexpr int kMaxDepth = 32;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool IsMeta(char c) {
  return IsBlank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' ||
         c == '(' || c == ')';
}
bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IsAssignment(const std::string& raw) {
  if (raw.empty() || !IsNameStart(raw[0])) return false;
  size_t i = 1;
  while (i < raw.size() && IsNameChar(raw[i])) ++i;
  return i < raw.size() && (raw[i] == '=' || (raw[i] == '+' && i + 1 < raw.size() && raw[i + 1] == '='));
}

// Words that only shape control flow; the command follows them.
const std::set<std::string>& Keywords() {
  static const std::set<std::string> k = {"!",  "{",    "}",    "then", "do",   "else",
                                          "elif", "if", "while", "until", "fi", "done", "time"};
  return k;
}

struct Heredoc {
  std::string delimiter;
  bool quoted;
  bool strip_tabs;
};

class Parser {
 public:
  Parser(std::string_view src, std::vector<ShellCommand>& out, int depth)
      : src_(src), out_(out), depth_(depth) {}

  // Parses until end of input or, when `closer` is ')', the matching ')'.
  Status ParseList(char closer) {
    if (depth_ > kMaxDepth) return InvalidArgument("commands nested too deeply");
    ShellCommand cmd;
    auto finish = [&](bool pipe_follows) {
      if (!cmd.words.empty() || !cmd.assignments.empty() || !cmd.redirects.empty()) {
        out_.push_back(std::move(cmd));
      }
      cmd = ShellCommand{};
      cmd.piped_input = pipe_follows;
    };
    while (true) {
      SkipBlanks();
      if (AtEnd()) {
        if (closer != 0) return InvalidArgument("missing ')'");
        finish(false);
        return Status::Ok();
      }
      char c = src_[pos_];
      bool at_start = cmd.words.empty();
      if (c == ')') {
        if (closer != ')') return InvalidArgument("unexpected ')'");
        ++pos_;
        finish(false);
        return Status::Ok();
      }
      if (c == '#' && at_start && cmd.assignments.empty()) {
        while (!AtEnd() && src_[pos_] != '\n') ++pos_;
        continue;
      }
      if (c == '\n') {
        ++pos_;
        finish(false);
        RETURN_IF_ERROR(ReadHeredocBodies());
        continue;
      }
      if (c == ';') {
        ++pos_;
        if (Peek(0) == ';') return InvalidArgument("'case' statements are not supported");
        finish(false);
        continue;
      }
      if (c == '&') {
        if (Peek(1) == '>') {
          RETURN_IF_ERROR(ReadRedirect(cmd));
          continue;
        }
        pos_ += Peek(1) == '&' ? 2 : 1;
        finish(false);
        continue;
      }
      if (c == '|') {
        if (Peek(1) == '|') {
          pos_ += 2;
          finish(false);
        } else {
          pos_ += Peek(1) == '&' ? 2 : 1;
          finish(true);
        }
        continue;
      }
      if (c == '(') {
        if (!at_start) return InvalidArgument("unexpected '(' (function definitions are not supported)");
        if (Peek(1) == '(') {  // (( arithmetic )): evaluates, runs nothing
          RETURN_IF_ERROR(SkipArithmetic(pos_ + 2));
          continue;
        }
        ++pos_;
        Parser inner(src_, out_, depth_ + 1);
        inner.pos_ = pos_;
        RETURN_IF_ERROR(inner.ParseList(')'));
        pos_ = inner.pos_;
        continue;
      }
      if (c == '<' || c == '>') {
        if (Peek(1) == '(') {  // process substitution: a word whose value is a path
          ShellWord w;
          RETURN_IF_ERROR(ReadWord(w));
          cmd.words.push_back(std::move(w));
          continue;
        }
        RETURN_IF_ERROR(ReadRedirect(cmd));
        continue;
      }
      // A word. An all-digit word directly followed by < or > is a file descriptor.
      size_t word_begin = pos_;
      ShellWord w;
      RETURN_IF_ERROR(ReadWord(w));
      std::string raw(src_.substr(word_begin, pos_ - word_begin));
      if (!AtEnd() && (src_[pos_] == '<' || src_[pos_] == '>') && !raw.empty() &&
          raw.find_first_not_of("0123456789") == std::string::npos) {
        RETURN_IF_ERROR(ReadRedirect(cmd));
        continue;
      }
      if (at_start && !w.quoted && !w.dynamic) {
        if (w.text == "case" || w.text == "function" || w.text == "select") {
          return InvalidArgument("'" + w.text + "' is not supported");
        }
        if (Keywords().count(w.text) > 0) continue;
      }
      if (at_start && IsAssignment(raw)) {
        cmd.assignments.push_back(std::move(w));
        continue;
      }
      cmd.words.push_back(std::move(w));
    }
  }

  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }

  // Parses `text` as double-quoted content (heredoc bodies): only the
  // substitutions in it matter.
  Status ScanExpansions(std::string_view text) {
    Parser inner(text, out_, depth_ + 1);
    ShellWord ignored;
    while (!inner.AtEnd()) {
      char c = inner.src_[inner.pos_];
      if (c == '\\') {
        inner.pos_ += 2;
      } else if (c == '$') {
        RETURN_IF_ERROR(inner.ReadDollar(ignored));
      } else if (c == '`') {
        RETURN_IF_ERROR(inner.ReadBacktick(ignored));
      } else {
        ++inner.pos_;
      }
    }
    return Status::Ok();
  }

 private:
  bool AtEnd() const { return pos_ >= src_.size(); }
  char Peek(size_t ahead) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  void SkipBlanks() {
    while (!AtEnd()) {
      if (IsBlank(src_[pos_])) {
        ++pos_;
      } else if (src_[pos_] == '\\' && Peek(1) == '\n') {
        pos_ += 2;
      } else {
        break;
      }
    }
  }

  Status ReadRedirect(ShellCommand& cmd) {
    static const char* const kOps[] = {"&>>", "&>", "<<<", "<<-", "<<", "<&", "<>", "<",
                                       ">>",  ">|", ">&",  ">"};
    std::string op;
    for (const char* candidate : kOps) {
      if (src_.substr(pos_).starts_with(candidate)) {
        op = candidate;
        break;
      }
    }
    pos_ += op.size();
    SkipBlanks();
    if (AtEnd() || (IsMeta(src_[pos_]) && !(src_[pos_] == '<' || src_[pos_] == '>'))) {
      return InvalidArgument("redirection '" + op + "' has no target");
    }
    ShellRedirect r{op, {}};
    RETURN_IF_ERROR(ReadWord(r.target));
    if (op == "<<" || op == "<<-") {
      heredocs_.push_back({r.target.text, r.target.quoted, op == "<<-"});
    }
    cmd.redirects.push_back(std::move(r));
    return Status::Ok();
  }

  Status ReadHeredocBodies() {
    for (const Heredoc& h : heredocs_) {
      std::string body;
      bool closed = false;
      while (!AtEnd()) {
        size_t end = src_.find('\n', pos_);
        if (end == std::string_view::npos) end = src_.size();
        std::string_view line = src_.substr(pos_, end - pos_);
        pos_ = end < src_.size() ? end + 1 : end;
        if (h.strip_tabs) {
          while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
        }
        if (line == h.delimiter) {
          closed = true;
          break;
        }
        body.append(line).push_back('\n');
      }
      (void)closed;  // bash runs an unterminated heredoc too (with a warning)
      if (!h.quoted) RETURN_IF_ERROR(ScanExpansions(body));
    }
    heredocs_.clear();
    return Status::Ok();
  }

  Status ReadWord(ShellWord& w) {
    while (!AtEnd()) {
      char c = src_[pos_];
      if ((c == '<' || c == '>') && Peek(1) == '(') {
        pos_ += 2;
        RETURN_IF_ERROR(ParseNested(')'));
        w.dynamic = true;
        w.text += "<(...)";
        continue;
      }
      if (IsMeta(c)) break;
      if (c == '\\') {
        if (Peek(1) == '\n') {
          pos_ += 2;
          continue;
        }
        if (pos_ + 1 < src_.size()) w.text.push_back(src_[pos_ + 1]);
        w.quoted = true;
        pos_ += 2;
      } else if (c == '\'') {
        size_t end = src_.find('\'', pos_ + 1);
        if (end == std::string_view::npos) return InvalidArgument("unterminated single quote");
        w.text.append(src_.substr(pos_ + 1, end - pos_ - 1));
        w.quoted = true;
        pos_ = end + 1;
      } else if (c == '"') {
        RETURN_IF_ERROR(ReadDoubleQuoted(w));
      } else if (c == '$') {
        RETURN_IF_ERROR(ReadDollar(w));
      } else if (c == '`') {
        RETURN_IF_ERROR(ReadBacktick(w));
      } else {
        if (c == '*' || c == '?' || c == '[') w.glob = true;
        if (c == '{' && src_.find('}', pos_) != std::string_view::npos) {
          size_t close = src_.find('}', pos_);
          std::string_view inside = src_.substr(pos_ + 1, close - pos_ - 1);
          if (inside.find(',') != std::string_view::npos || inside.find("..") != std::string_view::npos) {
            w.brace = true;
          }
        }
        w.text.push_back(c);
        ++pos_;
      }
    }
    return Status::Ok();
  }

  Status ReadDoubleQuoted(ShellWord& w) {
    ++pos_;  // opening quote
    w.quoted = true;
    while (true) {
      if (AtEnd()) return InvalidArgument("unterminated double quote");
      char c = src_[pos_];
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c == '\\') {
        char n = Peek(1);
        if (n == '$' || n == '`' || n == '"' || n == '\\') {
          w.text.push_back(n);
          pos_ += 2;
        } else if (n == '\n') {
          pos_ += 2;
        } else {
          w.text.push_back('\\');
          ++pos_;
        }
      } else if (c == '$') {
        RETURN_IF_ERROR(ReadDollar(w));
      } else if (c == '`') {
        RETURN_IF_ERROR(ReadBacktick(w));
      } else {
        w.text.push_back(c);
        ++pos_;
      }
    }
  }

  Status ReadDollar(ShellWord& w) {
    size_t start = pos_;
    char n = Peek(1);
    if (n == '(' && Peek(2) == '(') {
      RETURN_IF_ERROR(SkipArithmetic(pos_ + 3));
    } else if (n == '(') {
      pos_ += 2;
      RETURN_IF_ERROR(ParseNested(')'));
    } else if (n == '{') {
      size_t close = src_.find('}', pos_ + 2);
      if (close == std::string_view::npos) return InvalidArgument("unterminated '${'");
      // ${x:-$(cmd)} can run a command: parse what is inside for substitutions.
      RETURN_IF_ERROR(ScanExpansions(src_.substr(pos_ + 2, close - pos_ - 2)));
      pos_ = close + 1;
    } else if (n == '\'') {  // $'...' ANSI-C quoting: escapes could spell anything
      size_t i = pos_ + 2;
      while (i < src_.size() && src_[i] != '\'') i += src_[i] == '\\' ? 2 : 1;
      if (i >= src_.size()) return InvalidArgument("unterminated $'...'");
      pos_ = i + 1;
    } else if (IsNameStart(n)) {
      pos_ += 2;
      while (!AtEnd() && IsNameChar(src_[pos_])) ++pos_;
    } else if (n != '\0' && std::string_view("@*#?$!-0123456789").find(n) != std::string_view::npos) {
      pos_ += 2;
    } else {
      w.text.push_back('$');  // a lone '$' is literal
      ++pos_;
      return Status::Ok();
    }
    w.dynamic = true;
    w.text.append(src_.substr(start, pos_ - start));
    return Status::Ok();
  }

  Status ReadBacktick(ShellWord& w) {
    std::string inner;
    size_t i = pos_ + 1;
    for (; i < src_.size() && src_[i] != '`'; ++i) {
      if (src_[i] == '\\' && i + 1 < src_.size() &&
          (src_[i + 1] == '`' || src_[i + 1] == '\\' || src_[i + 1] == '$')) {
        ++i;
      }
      inner.push_back(src_[i]);
    }
    if (i >= src_.size()) return InvalidArgument("unterminated backquote");
    pos_ = i + 1;
    Parser nested(inner, out_, depth_ + 1);
    RETURN_IF_ERROR(nested.ParseList(0));
    w.dynamic = true;
    w.text += "`...`";
    return Status::Ok();
  }

  // Parses a nested command list from pos_ up to the matching `closer`.
  Status ParseNested(char closer) {
    Parser inner(src_, out_, depth_ + 1);
    inner.pos_ = pos_;
    RETURN_IF_ERROR(inner.ParseList(closer));
    pos_ = inner.pos_;
    return Status::Ok();
  }

  // Skips an arithmetic expression starting at `from` up to its closing "))".
  Status SkipArithmetic(size_t from) {
    int depth = 2;
    size_t i = from;
    for (; i < src_.size() && depth > 0; ++i) {
      if (src_[i] == '(') ++depth;
      if (src_[i] == ')') --depth;
      if (src_[i] == '$' || src_[i] == '`') {
        return InvalidArgument("substitutions inside arithmetic are not supported");
      }
    }
    if (depth > 0) return InvalidArgument("unterminated arithmetic '(('");
    pos_ = i;
    return Status::Ok();
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::vector<ShellCommand>& out_;
  int depth_;
  std::vector<Heredoc> heredocs_;
};

}  // namespace

Result<std::vector<ShellCommand>> ParseShell(std::string_view script) {
  std::vector<ShellCommand> out;
  Parser parser(script, out, 0);
  RETURN_IF_ERROR(parser.ParseList(0));
  return out;
}

}  // namespace tandem::tools
