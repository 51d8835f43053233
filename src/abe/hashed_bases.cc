// Memoised random-oracle bases and the batched products of the FAME schemes (hashed_bases.h).
#include "src/abe/hashed_bases.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cipherchart/abe/fame.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/pairing/hash_to_curve.h"
#include "src/abe/scheme_internal.h"

namespace cipherchart::abe::detail {
namespace {

// hash_to_curve into G1 or G2; fails only for an empty DST or oversized requests, neither
// possible with the schemes' fixed DSTs.
G1 HashOrDie(std::span<const std::uint8_t> msg, std::string_view dst, const G1*) {
  auto p = pairing::HashToG1(msg, pairing::AsBytes(dst));
  if (!p) std::abort();
  return *p;
}
G2 HashOrDie(std::span<const std::uint8_t> msg, std::string_view dst, const G2*) {
  auto p = pairing::HashToG2(msg, pairing::AsBytes(dst));
  if (!p) std::abort();
  return *p;
}

// Hashed bases are public and reused across encryptions and key generations: their points are
// memoised, and a fixed-base table (G1: about 0.3 ms to build, 40 KB, then multiplications
// about 3-5x faster; G2: 184 KB, about 2.5x faster) is built once a base has been used
// kTableAfterUses times. Bounded: points up to kMaxPoints (then the cache is emptied), tables up
// to `max_tables` (beyond it bases keep using the plain constant-time multiplication, so a
// working set larger than the budget degrades gracefully instead of thrashing). Thread-safe;
// entries are immutable once shared. One cache per group; the key is u8(len(dst)) || dst || msg.
template <class BaseT, class TableT>
class HashedBaseCache {
 public:
  using Ref = std::shared_ptr<const BaseT>;
  explicit HashedBaseCache(std::size_t max_tables) : max_tables_(max_tables) {}

  Ref Get(std::string_view dst, std::span<const std::uint8_t> msg) {
    std::string key(1, static_cast<char>(dst.size()));
    key.append(dst);
    key.append(reinterpret_cast<const char*>(msg.data()), msg.size());
    Ref found;
    bool build = false;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end()) {
        found = it->second.base;
        build = !found->table && ++it->second.uses == kTableAfterUses && tables_ < max_tables_;
      }
    }
    if (!found) {
      auto fresh = std::make_shared<BaseT>();
      fresh->point = HashOrDie(msg, dst, &fresh->point);
      std::lock_guard lock(mu_);
      if (entries_.size() >= kMaxPoints) {
        entries_.clear();
        tables_ = 0;
      }
      return entries_.try_emplace(std::move(key), Slot{fresh, 1}).first->second.base;
    }
    if (!build) return found;
    auto with_table = std::make_shared<BaseT>(*found);
    with_table->table = std::make_shared<const TableT>(found->point);
    std::lock_guard lock(mu_);
    entries_[key].base = with_table;
    ++tables_;
    return with_table;
  }

 private:
  static constexpr std::size_t kMaxPoints = 1 << 16;  // ~10 MB of points
  static constexpr std::uint32_t kTableAfterUses = 2;

  struct Slot {
    Ref base;
    std::uint32_t uses = 0;
  };
  const std::size_t max_tables_;
  std::mutex mu_;
  std::unordered_map<std::string, Slot> entries_;
  std::size_t tables_ = 0;
};

HashedBaseCache<Base, pairing::G1FixedBase>& G1Cache() {
  static HashedBaseCache<Base, pairing::G1FixedBase> cache(4096);  // ~170 MB of tables (41 KB each)
  return cache;
}
HashedBaseCache<G2Base, pairing::FixedBaseTable<G2>>& G2Cache() {
  static HashedBaseCache<G2Base, pairing::FixedBaseTable<G2>> cache(512);  // ~94 MB (184 KB each)
  return cache;
}

// The G2 tables behind MulPublicKeyBases, keyed by the points' raw coordinates (public).
class PublicKeyTables {
 public:
  static PublicKeyTables& Instance() {
    static PublicKeyTables cache;
    return cache;
  }
  std::array<G2, 2> Mul(const std::array<G2, 3>& h_a, const std::array<Fr, 2>& s) {
    std::string key(2 * sizeof(G2), '\0');
    std::memcpy(key.data(), &h_a[0], sizeof(G2));
    std::memcpy(key.data() + sizeof(G2), &h_a[1], sizeof(G2));
    std::shared_ptr<const Tables> tables;
    {
      std::lock_guard lock(mu_);
      if (entries_.size() >= kMaxKeys && !entries_.contains(key)) entries_.clear();
      Slot& slot = entries_[key];
      if (!slot.tables && ++slot.uses == kTableAfterUses) {
        slot.tables = std::make_shared<const Tables>(
            Tables{pairing::FixedBaseTable<G2>(h_a[0]), pairing::FixedBaseTable<G2>(h_a[1])});
      }
      tables = slot.tables;
    }
    if (!tables) return {h_a[0].Mul(s[0]), h_a[1].Mul(s[1])};
    return {tables->a1.Mul(s[0]), tables->a2.Mul(s[1])};
  }

 private:
  static constexpr std::size_t kMaxKeys = 32;
  static constexpr std::uint32_t kTableAfterUses = 2;
  struct Tables {
    pairing::FixedBaseTable<G2> a1, a2;
  };
  struct Slot {
    std::uint32_t uses = 0;
    std::shared_ptr<const Tables> tables;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Slot> entries_;
};

}  // namespace

std::array<G2, 3> MulPublicKeyBases(const std::array<G2, 3>& h_a, const std::array<Fr, 2>& s) {
  const auto a = PublicKeyTables::Instance().Mul(h_a, s);
  Fr sum = s[0] + s[1];
  const G2 last = h_a[2] == G2::Generator() ? MulG2Generator(sum) : h_a[2].Mul(sum);
  Wipe(sum);
  return {a[0], a[1], last};
}

BaseRef HashedBase(std::span<const std::uint8_t> msg) { return G1Cache().Get(fame::kHashDst, msg); }
BaseRef HashedBase(std::string_view dst, std::span<const std::uint8_t> msg) {
  return G1Cache().Get(dst, msg);
}
G2BaseRef HashedG2Base(std::string_view dst, std::span<const std::uint8_t> msg) {
  return G2Cache().Get(dst, msg);
}

G2 G2Base::Mul(const Fr& k) const { return table ? table->Mul(k) : point.Mul(k); }

BaseRef GeneratorBase() {
  static const BaseRef g = [] {
    auto b = std::make_shared<Base>();
    b->point = G1::Generator();
    b->table = std::make_shared<const pairing::G1FixedBase>(b->point);
    return BaseRef(b);
  }();
  return g;
}

std::vector<std::uint8_t> TaggedHashInput(std::uint8_t tag, std::string_view label, int l, int t) {
  // tag || u32be(len) || label || u8(l) || u8(t): prefix-free.
  std::vector<std::uint8_t> msg;
  msg.reserve(label.size() + 7);
  msg.push_back(tag);
  const auto len = static_cast<std::uint32_t>(label.size());
  for (int s = 24; s >= 0; s -= 8) msg.push_back(static_cast<std::uint8_t>(len >> s));
  msg.insert(msg.end(), label.begin(), label.end());
  msg.push_back(static_cast<std::uint8_t>(l));
  msg.push_back(static_cast<std::uint8_t>(t));
  return msg;
}

std::vector<std::uint8_t> AttributeHashInput(std::string_view attribute, int l, int t) {
  return TaggedHashInput('A', attribute, l, t);
}

std::vector<std::uint8_t> ColumnHashInput(std::size_t column, int l, int t) {
  // 'C' || u32be(column) || u8(l) || u8(t)
  std::vector<std::uint8_t> msg = {'C'};
  const auto j = static_cast<std::uint32_t>(column);
  for (int s = 24; s >= 0; s -= 8) msg.push_back(static_cast<std::uint8_t>(j >> s));
  msg.push_back(static_cast<std::uint8_t>(l));
  msg.push_back(static_cast<std::uint8_t>(t));
  return msg;
}

void AddProducts(std::vector<Term>& terms, std::span<G1> out) {
  std::vector<pairing::G1FixedBaseTerm> batch;
  batch.reserve(terms.size());
  for (auto& term : terms) {
    if (term.base->table) {
      batch.push_back({term.base->table.get(), term.scalar, term.slot});
    } else {
      out[term.slot] += term.base->point.Mul(term.scalar);
    }
  }
  pairing::FixedBaseSum(batch, out);
  SecureWipe(static_cast<void*>(batch.data()), batch.size() * sizeof(batch[0]));
  for (auto& term : terms) SecureWipe(static_cast<void*>(&term.scalar), sizeof(term.scalar));
}

}  // namespace cipherchart::abe::detail
