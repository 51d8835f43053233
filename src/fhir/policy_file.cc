// The section policy file (config/policies.toml) and policy templates.
#include "cipherchart/fhir/policy_file.h"

#include <toml++/toml.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

namespace {

using internal::Cat;
using Resolver = std::function<std::optional<std::string>(std::string_view)>;

bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [A-Za-z_][A-Za-z0-9_]*: variable and group names.
bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(IsLetter(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!IsLetter(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

// A variable value: letters, digits, '_' and '-' (no policy syntax can be injected).
bool IsSafeValue(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsLetter(c) && !IsDigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsKeyword(std::string_view s) {
  auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); };
  std::string l;
  for (char c : s) l += lower(c);
  return l == "and" || l == "or" || l == "of";
}

// A bare namespace (the first part of an attribute name, docs/policy.md): a group member.
bool IsNamespace(std::string_view s) {
  if (s.empty() || !(IsLetter(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!IsLetter(c) && !IsDigit(c) && c != '_' && c != '-') return false;
  }
  return !IsKeyword(s);
}

// Characters that can be part of an attribute (so "any" preceded by one is not the any() form).
bool IsNameChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == ':'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class Expander {
 public:
  Expander(const PolicyFile& file, std::string_view text, const Resolver& resolve)
      : file_(file), t_(text), resolve_(resolve) {}

  Result<std::string> Run() {
    std::string out;
    std::size_t i = 0;
    while (i < t_.size()) {
      const char c = t_[i];
      if (c == '"') {
        std::size_t j = i + 1;
        while (j < t_.size() && t_[j] != '"') j += t_[j] == '\\' ? 2 : 1;
        if (j >= t_.size()) return Bad(i, "unterminated quoted name or value");
        out.append(t_.substr(i, j - i + 1));
        i = j + 1;
      } else if (c == '{') {
        auto v = Variable(i, &i);
        if (!v) return v;
        out += *v;
      } else if (c == '}') {
        return Bad(i, "'}' without '{'");
      } else if (IsAnyAt(i)) {
        auto v = Any(i, &i);
        if (!v) return v;
        out += *v;
      } else {
        out += c;
        ++i;
      }
    }
    return out;
  }

 private:
  std::unexpected<Error> Bad(std::size_t at, const std::string& message) const {
    return Fail(ErrorCode::kInvalidArgument, "column " + std::to_string(at + 1) + ": " + message);
  }

  // {name} at t_[at]; *next is set past the '}'.
  Result<std::string> Variable(std::size_t at, std::size_t* next) {
    const std::size_t close = t_.find('}', at);
    if (close == std::string_view::npos) return Bad(at, "'{' without '}'");
    const std::string_view name = t_.substr(at + 1, close - at - 1);
    if (!IsIdentifier(name)) return Bad(at, "a variable name is [A-Za-z_][A-Za-z0-9_]*");
    std::optional<std::string> value = resolve_(name);
    if (!value) return Bad(at, "unknown variable '" + std::string(name) + "'");
    if (!IsSafeValue(*value)) {
      return Bad(at,
                 "variable '" + std::string(name) + "': value must be non-empty letters, digits, '_' or '-'");
    }
    *next = close + 1;
    return *value;
  }

  bool IsAnyAt(std::size_t i) const {
    if (t_.substr(i, 3) != "any") return false;
    if (i > 0 && (IsNameChar(t_[i - 1]) || t_[i - 1] == '"')) return false;
    std::size_t j = i + 3;
    while (j < t_.size() && (t_[j] == ' ' || t_[j] == '\t')) ++j;
    return j < t_.size() && t_[j] == '(';
  }

  // any(group, suffix) at t_[at]; *next is set past the ')'.
  Result<std::string> Any(std::size_t at, std::size_t* next) {
    const std::size_t open = t_.find('(', at);
    const std::size_t close = t_.find(')', open);
    if (close == std::string_view::npos) return Bad(at, "any( without ')'");
    const std::size_t comma = t_.find(',', open);
    if (comma == std::string_view::npos || comma > close ||
        t_.substr(comma + 1, close - comma - 1).find(',') != std::string_view::npos) {
      return Bad(at, "any(group, suffix) takes two arguments");
    }
    const std::string_view group = Trim(t_.substr(open + 1, comma - open - 1));
    if (!IsIdentifier(group)) return Bad(at, "any(): a group name is [A-Za-z_][A-Za-z0-9_]*");
    const auto g = file_.groups.find(std::string(group));
    if (g == file_.groups.end()) return Bad(at, "unknown group '" + std::string(group) + "'");
    if (g->second.empty()) return Bad(at, "group '" + std::string(group) + "' is empty");

    // The suffix: attribute characters and {variables}, expanded here.
    std::size_t s = comma + 1;
    std::size_t e = close;
    while (s < e && (t_[s] == ' ' || t_[s] == '\t')) ++s;
    while (e > s && (t_[e - 1] == ' ' || t_[e - 1] == '\t')) --e;
    if (s == e) return Bad(at, "any(): the suffix is empty");
    std::string suffix;
    for (std::size_t i = s; i < e;) {
      if (t_[i] == '{') {
        auto v = Variable(i, &i);
        if (!v) return v;
        if (i > e) return Bad(at, "any(): '{' without '}' in the suffix");
        suffix += *v;
      } else if (IsNameChar(t_[i])) {
        suffix += t_[i++];
      } else {
        return Bad(i, "any(): the suffix may hold only letters, digits, '_', '-', '.', ':' and {variables}");
      }
    }
    std::string out = "(";
    for (std::size_t k = 0; k < g->second.size(); ++k) {
      if (k > 0) out += " OR ";
      out += g->second[k] + "." + suffix;
    }
    out += ")";
    *next = close + 1;
    return out;
  }

  const PolicyFile& file_;
  std::string_view t_;
  const Resolver& resolve_;
};

Result<std::string> ExpandWith(const PolicyFile& file, std::string_view policy_template,
                               const Resolver& resolve) {
  auto text = Expander(file, policy_template, resolve).Run();
  if (!text) return text;
  auto parsed = abe::ParsePolicy(*text);
  if (!parsed) return Fail(ErrorCode::kInvalidArgument, "expanded " + parsed.error().message());
  return abe::PolicyToString(**parsed);
}

// Placeholder values for checking templates when the file is loaded.
std::optional<std::string> Placeholder(std::string_view name) { return "var_" + std::string(name); }

std::string Pos(std::string_view source, const toml::source_region& where) {
  return std::string(source) + ":" + std::to_string(where.begin.line) + ":" +
         std::to_string(where.begin.column) + ": ";
}

Result<std::vector<Section>> SectionList(std::string_view source, const toml::node& node,
                                         const std::string& what) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr)
    return Fail(ErrorCode::kInvalidArgument, Pos(source, node.source()) + what + " must be an array");
  std::vector<Section> out;
  for (const toml::node& item : *arr) {
    const auto name = item.value<std::string>();
    if (!name)
      return Fail(ErrorCode::kInvalidArgument, Pos(source, item.source()) + what + ": expected strings");
    auto s = ParseSection(*name);
    if (!s)
      return Fail(ErrorCode::kInvalidArgument,
                  Pos(source, item.source()) + what + ": " + s.error().message());
    for (Section prev : out) {
      if (prev == *s)
        return Fail(ErrorCode::kInvalidArgument,
                    Pos(source, item.source()) + what + ": '" + *name + "' is listed twice");
    }
    out.push_back(*s);
  }
  return out;
}

}  // namespace

Result<PolicyFile> ParsePolicyFile(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kInvalidEncoding, Pos(source_name, e.source()) + std::string(e.description()));
  }
  auto bad = [&](const toml::source_region& where, const std::string& message) {
    return Fail(ErrorCode::kInvalidArgument, Pos(source_name, where) + message);
  };

  PolicyFile file;
  bool have_policies = false;
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    const toml::table* table = node.as_table();
    if (k != "groups" && k != "policies" && k != "personal" && k != "researcher")
      return bad(key.source(),
                 Cat({"unknown key '", k, "' (tables: groups, policies, personal, researcher)"}));
    if (table == nullptr) return bad(key.source(), Cat({"'", k, "' must be a table ([", k, "])"}));
    for (const auto& [skey, snode] : *table) {
      const std::string s(skey.str());
      const std::string where = Cat({"[", k, "] ", s});
      if (k == "groups") {
        if (!IsIdentifier(s)) return bad(skey.source(), where + ": a group name is [A-Za-z_][A-Za-z0-9_]*");
        const toml::array* members = snode.as_array();
        if (members == nullptr) return bad(snode.source(), where + ": must be an array of namespaces");
        std::vector<std::string> list;
        std::set<std::string> seen;
        for (const toml::node& m : *members) {
          const auto name = m.value<std::string>();
          if (!name || !IsNamespace(*name))
            return bad(m.source(), where + ": members must be namespaces (letters, digits, '_', '-')");
          if (!seen.insert(*name).second) return bad(m.source(), where + ": '" + *name + "' is listed twice");
          list.push_back(*name);
        }
        file.groups[s] = std::move(list);
      } else if (k == "policies") {
        auto section = ParseSection(s);
        if (!section) return bad(skey.source(), "[policies]: " + section.error().message());
        const auto text = snode.value<std::string>();
        if (!text) return bad(snode.source(), where + ": must be a string");
        file.policy_templates[*section] = *text;
        have_policies = true;
      } else if (s == "sections") {
        auto list = SectionList(source_name, snode, where);
        if (!list) return std::unexpected(list.error());
        (k == "personal" ? file.personal_sections : file.researcher_sections) = std::move(*list);
      } else if (k == "researcher" && s == "policy") {
        const auto text = snode.value<std::string>();
        if (!text) return bad(snode.source(), where + ": must be a string");
        file.researcher_policy_template = *text;
      } else {
        return bad(skey.source(), Cat({"unknown key '", s, "' in [", k, "]"}));
      }
    }
  }
  if (!have_policies)
    return Fail(ErrorCode::kInvalidArgument, std::string(source_name) + ": no [policies] table");
  for (Section s : AllSections()) {
    if (!file.policy_templates.contains(s)) {
      return Fail(ErrorCode::kInvalidArgument, std::string(source_name) + ": [policies] has no policy for '" +
                                                   std::string(SectionName(s)) + "'");
    }
  }
  // Every template must expand and parse (variables get placeholder values).
  const Resolver placeholder = Placeholder;
  for (const auto& [section, text] : file.policy_templates) {
    auto r = ExpandWith(file, text, placeholder);
    if (!r) {
      return Fail(ErrorCode::kInvalidArgument, std::string(source_name) + ": [policies] " +
                                                   std::string(SectionName(section)) + ": " +
                                                   r.error().message());
    }
  }
  if (!file.researcher_policy_template.empty()) {
    auto r = ExpandWith(file, file.researcher_policy_template, placeholder);
    if (!r) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(source_name) + ": [researcher] policy: " + r.error().message());
    }
  }
  return file;
}

Result<PolicyFile> LoadPolicyFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read the policy file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail(ErrorCode::kInvalidArgument, "cannot read the policy file " + path.string());
  return ParsePolicyFile(text.str(), path.string());
}

PolicyFile DefaultPolicyFile() {
  static const PolicyFile kDefault = [] {
    auto f = ParsePolicyFile(DefaultPolicyText(), "config/policies.toml (built in)");
    if (!f) {
      // The build embeds config/policies.toml and fhir_test parses it: this cannot happen in a
      // tested build.
      std::fprintf(stderr, "cipherchart: built-in policy file: %s\n", f.error().ToString().c_str());
      std::abort();
    }
    return *std::move(f);
  }();
  return kDefault;
}

Result<std::string> ExpandTemplate(const PolicyFile& file, std::string_view policy_template,
                                   const std::map<std::string, std::string>& variables) {
  const Resolver lookup = [&variables](std::string_view name) -> std::optional<std::string> {
    const auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
  return ExpandWith(file, policy_template, lookup);
}

Result<std::string> ExpandPolicy(const PolicyFile& file, Section section,
                                 const std::map<std::string, std::string>& variables) {
  const std::string prefix = "policy for '" + std::string(SectionName(section)) + "': ";
  const auto it = file.policy_templates.find(section);
  if (it == file.policy_templates.end())
    return Fail(ErrorCode::kInvalidArgument, prefix + "the file has none");
  auto r = ExpandTemplate(file, it->second, variables);
  if (!r) return Fail(ErrorCode::kInvalidArgument, prefix + r.error().message());
  return r;
}

}  // namespace cipherchart::fhir
