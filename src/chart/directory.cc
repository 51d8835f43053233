#include "cipherchart/chart/directory.h"

#include "cipherchart/chart/records.h"
#include "cipherchart/chart/wallet.h"

namespace cipherchart::chart {
Result<abe::AuthorityDirectory> LoadDirectory(ServerPort& server, const std::vector<abe::TrustedRoot>& roots,
                                              const std::string& patient_id,
                                              std::vector<std::string>& warnings) {
  std::vector<abe::TrustedRoot> all_roots = roots;
  std::vector<abe::DirectoryEntry> patient_entries;
  if (!patient_id.empty()) {
    auto list = server.Records(patient_id);
    if (!list) return std::unexpected(list.error());
    std::string author_id;
    for (const auto& r : *list)
      if (r.record_id == kOwnerDirectoryRecord && r.version == 1) author_id = r.author_id;
    if (!author_id.empty()) {
      auto author = server.Account(author_id);
      if (!author) return std::unexpected(author.error());
      if (author->role != "practitioner")
        return Fail(ErrorCode::kSignerMismatch,
                    "the patient's authority was not published by a practitioner");
      auto env = server.Fetch(patient_id, std::string(kOwnerDirectoryRecord), 1);
      if (!env) return std::unexpected(env.error());
      auto payload = OpenPublicRecord(*env, kOwnerDirectoryRecord, author->identity_key);
      if (!payload) return WithContext(payload, "the patient's authority record");
      auto entries = abe::ParseDirectory(*payload);
      if (!entries) return WithContext(entries, "the patient's authority record");
      const std::string ns = PatientNamespace(patient_id);
      if (entries->size() != 1 || entries->front().chain.size() != 1 ||
          entries->front().chain.front().authority_namespace != ns)
        return Fail(ErrorCode::kSignerMismatch, "the patient's authority record is not for " + ns);
      all_roots.push_back(abe::TrustedRootOf(entries->front().chain.front()));
      patient_entries = std::move(*entries);
    }
  }
  abe::AuthorityDirectory dir(all_roots);
  const std::uint64_t now = NowSeconds();
  auto d = server.Directory();
  if (!d) return std::unexpected(d.error());
  auto entries = abe::ParseDirectory(*d);
  if (!entries) return WithContext(entries, "authority directory");
  for (const auto& e : *entries) {
    if (auto r = dir.Add(e.chain, e.statement, now); !r)
      warnings.push_back("authority " + e.statement.public_key.authority_namespace +
                         " skipped: " + r.error().message());
  }
  for (const auto& e : patient_entries)
    if (auto r = dir.Add(e.chain, e.statement, now); !r) return WithContext(r, "the patient's authority");
  return dir;
}

}  // namespace cipherchart::chart
