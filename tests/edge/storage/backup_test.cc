// Backups (storage.h, "Backups" and "Restoring"): a copy taken while four
// threads write holds every write acknowledged before the backup started,
// is one consistent commit (items and change records agree) and passes
// PRAGMA integrity_check; PrepareRestored gives the copy a new replica id,
// keeps its versions, change log and cursors, and the restored node issues
// only versions above the ones it holds, even with its wall clock set back.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edge/base/clock.h"
#include "edge/storage/internal/sqlite.h"
#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr uint64_t kPeer = 0xBEEF;

std::string Hex16(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

// PRAGMA integrity_check and the journal mode of a file, read with the
// SQLite wrapper (read-only: the check never writes the copy).
std::string IntegrityCheck(const std::string& path) {
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) return db.status().ToString();
  auto r = (*db)->QueryText("PRAGMA integrity_check");
  return r.ok() ? *r : r.status().ToString();
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return -1;
  auto r = (*db)->QueryInt(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : -1;
}

class BackupTest : public ::testing::Test {
 protected:
  Options MakeOptions(const std::string& name) {
    Options o;
    o.path = dir_.File(name);
    o.clock = &clock_;
    o.ttl_sweep_interval_ms = 0;
    return o;
  }
  std::unique_ptr<Storage> OpenAt(const std::string& name) {
    auto s = Storage::Open(MakeOptions(name));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  FakeClock clock_;
  TempDir dir_;
};

TEST_F(BackupTest, CopyWhileFourThreadsWriteHoldsEveryEarlierWrite) {
  auto db = OpenAt("live.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
  // Several MB, so that the copy takes many steps while the writers go on.
  const std::string pad(1000, 'p');
  for (int i = 0; i < 4000; ++i) {
    ASSERT_TRUE(db->Put("telemetry", Reading("seed", i, i, pad)).ok());
  }

  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::array<std::atomic<int64_t>, kThreads> acked{};  // writes 0..acked-1 of thread t returned OK
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      const std::string device = "writer-" + std::to_string(t);
      for (int64_t i = 0; !stop.load(); ++i) {
        auto r = db->Put("telemetry", Reading(device, i, i, pad));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        acked[t].store(i + 1);
      }
    });
  }
  // Let every writer get going.
  for (int t = 0; t < kThreads; ++t) {
    while (acked[t].load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::array<int64_t, kThreads> before{};
  for (int t = 0; t < kThreads; ++t) before[t] = acked[t].load();

  const std::string dest = dir_.File("backup.db");
  BackupProgress progress;
  Status s = db->Backup(dest, &progress);
  std::array<int64_t, kThreads> after{};
  for (int t = 0; t < kThreads; ++t) after[t] = acked[t].load();
  stop.store(true);
  for (auto& w : writers) w.join();
  ASSERT_TRUE(s.ok()) << s.ToString();

  EXPECT_GT(progress.steps, 1);
  EXPECT_EQ(progress.pages_copied, progress.pages_total);
  EXPECT_EQ(progress.bytes, static_cast<int64_t>(std::filesystem::file_size(dest)));
  EXPECT_EQ(progress.replica_id, db->replica_id());
  int64_t during = 0;
  for (int t = 0; t < kThreads; ++t) during += after[t] - before[t];
  EXPECT_GT(during, 0) << "no write committed while the backup ran";

  // One self-contained file, nothing left beside it.
  EXPECT_FALSE(std::filesystem::exists(dest + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(dest + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(dest + "-journal"));
  EXPECT_EQ(IntegrityCheck(dest), "ok");
  EXPECT_EQ(QueryInt(dest, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='delete'"), 1);

  // One commit: every item has its change record and nothing more (each
  // write here inserts a new key), and the sequence reported is the copy's.
  const int64_t items = QueryInt(dest, "SELECT count(*) FROM items");
  EXPECT_EQ(items, QueryInt(dest, "SELECT count(*) FROM changes"));
  EXPECT_EQ(progress.last_seq, QueryInt(dest, "SELECT max(seq) FROM changes"));
  EXPECT_EQ(items, QueryInt(dest, "SELECT item_count FROM tables WHERE name='telemetry'"));

  // Every write acknowledged before Backup() was called is in the copy.
  auto copy = Storage::Open(MakeOptions("backup.db"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  for (int t = 0; t < kThreads; ++t) {
    const std::string device = "writer-" + std::to_string(t);
    for (int64_t i = 0; i < before[t]; ++i) {
      auto got = (*copy)->Get("telemetry", Key(device, i));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_TRUE(got->has_value()) << device << " write " << i << " acknowledged before the backup is missing";
    }
  }
  auto seed = (*copy)->Get("telemetry", Key("seed", 3999));
  ASSERT_TRUE(seed.ok() && seed->has_value());
  // A copy is a copy: same replica id until PrepareRestored.
  EXPECT_EQ((*copy)->replica_id(), db->replica_id());
}

TEST_F(BackupTest, BackupFileReadsADatabaseOpenElsewhereWithoutWritingIt) {
  auto db = OpenAt("live.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
  ASSERT_TRUE(db->Put("telemetry", Reading("d", 1, 1)).ok());
  BackupProgress p;
  ASSERT_TRUE(Storage::BackupFile(dir_.File("live.db"), dir_.File("copy.db"), &p).ok());
  EXPECT_EQ(p.last_seq, 1);
  EXPECT_EQ(p.replica_id, db->replica_id());
  EXPECT_EQ(IntegrityCheck(dir_.File("copy.db")), "ok");
  // The live database goes on as before.
  ASSERT_TRUE(db->Put("telemetry", Reading("d", 2, 2)).ok());
  EXPECT_EQ(db->Stats().last_seq, 2);
}

TEST_F(BackupTest, BackupErrors) {
  auto db = OpenAt("live.db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Backup("").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(db->Backup(dir_.File("live.db")).code(), Status::Code::kInvalidArgument);
  const std::string nowhere = dir_.File("no/such/dir/backup.db");
  EXPECT_EQ(db->Backup(nowhere).code(), Status::Code::kIOError);
  EXPECT_FALSE(std::filesystem::exists(nowhere + ".tmp"));
  EXPECT_EQ(Storage::BackupFile(dir_.File("missing.db"), dir_.File("x.db")).code(), Status::Code::kNotFound);
  {
    std::ofstream f(dir_.File("plain.db"));  // an SQLite database, not an EdgeTable one
  }
  {
    auto plain = sqlite::Db::Open(dir_.File("plain.db"), sqlite::Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE((*plain)->Exec("CREATE TABLE t(x)").ok());
  }
  EXPECT_EQ(Storage::BackupFile(dir_.File("plain.db"), dir_.File("x.db")).code(), Status::Code::kCorruption);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x.db.tmp")));
  // An existing destination is replaced whole.
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
  ASSERT_TRUE(db->Backup(dir_.File("b.db")).ok());
  ASSERT_TRUE(db->Put("telemetry", Reading("d", 1, 1)).ok());
  BackupProgress p;
  ASSERT_TRUE(db->Backup(dir_.File("b.db"), &p).ok());
  EXPECT_EQ(p.last_seq, db->Stats().last_seq);
  EXPECT_EQ(QueryInt(dir_.File("b.db"), "SELECT count(*) FROM items"), 1);
}

TEST_F(BackupTest, PrepareRestoredTakesANewIdAndKeepsVersionsAndCursors) {
  auto db = OpenAt("live.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
  ASSERT_TRUE(db->Put("telemetry", Reading("d", 1, 1)).ok());
  ASSERT_TRUE(db->Put("telemetry", Reading("d", 2, 2)).ok());
  ASSERT_TRUE(db->Delete("telemetry", Key("d", 2)).ok());
  // A change from a peer whose clock is an hour ahead: the restored node's
  // versions must still be above it.
  RemoteChange c;
  c.table = "telemetry";
  c.key = Key("peer", 1);
  c.new_item = Reading("peer", 1, 7);
  c.version = clock::Version{clock_.NowMs() + 3600 * 1000, 3, kPeer};
  ApplyRemoteOptions apply;
  apply.source_replica = kPeer;
  apply.sync_state = {{"client/pull_cursor", "42"}};
  ASSERT_TRUE(db->ApplyRemote({c}, apply).ok());
  ASSERT_TRUE(db->SetUpstreamAckedSeq(2).ok());
  const uint64_t old_id = db->replica_id();
  auto stored = [](Storage* s, const item::Map& key) {
    auto r = s->GetStored("telemetry", key);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? (*r)->version : clock::Version{};
  };
  const clock::Version v1 = stored(db.get(), Key("d", 1));
  const clock::Version vpeer = stored(db.get(), Key("peer", 1));
  auto changes_before = db->ReadChanges(0, 100);
  ASSERT_TRUE(changes_before.ok());

  const std::string copy = dir_.File("restored.db");
  ASSERT_TRUE(db->Backup(copy).ok());
  db.reset();

  auto info = Storage::PrepareRestored(copy);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->previous_replica_id, old_id);
  EXPECT_NE(info->replica_id, old_id);
  EXPECT_NE(info->replica_id, 0u);
  EXPECT_EQ(info->last_seq, 4);
  EXPECT_EQ(info->upstream_acked_seq, 2);
  EXPECT_EQ(info->pull_cursor, std::optional<std::string>("42"));
  EXPECT_GT(info->hlc_floor_ms, vpeer.hlc_ms);
  EXPECT_EQ(IntegrityCheck(copy), "ok");

  auto r = Storage::Open(MakeOptions("restored.db"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Storage* restored = r->get();
  EXPECT_EQ(restored->replica_id(), info->replica_id);
  // Versions, the change log and the cursors are as they were.
  EXPECT_EQ(stored(restored, Key("d", 1)), v1);
  EXPECT_EQ(stored(restored, Key("peer", 1)), vpeer);
  auto changes_after = restored->ReadChanges(0, 100);
  ASSERT_TRUE(changes_after.ok());
  ASSERT_EQ(changes_after->size(), changes_before->size());
  for (size_t i = 0; i < changes_after->size(); ++i) {
    EXPECT_EQ((*changes_after)[i].seq, (*changes_before)[i].seq);
    EXPECT_EQ((*changes_after)[i].version, (*changes_before)[i].version);
    EXPECT_EQ((*changes_after)[i].origin_replica, (*changes_before)[i].origin_replica);
  }
  EXPECT_EQ(restored->UpstreamAckedSeq(), 2);
  auto cursor = restored->GetSyncState("client/pull_cursor");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, std::optional<std::string>("42"));
  auto previous = restored->GetSyncState("restore/previous_replica");
  ASSERT_TRUE(previous.ok());
  EXPECT_EQ(*previous, std::optional<std::string>(Hex16(old_id)));
  EXPECT_TRUE(restored->LastVersion() > vpeer);
}

TEST_F(BackupTest, RestoredNodeIssuesVersionsAboveEveryStoredOneEvenWithItsClockBack) {
  auto db = OpenAt("live.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(db->Put("telemetry", Reading("d", i, i)).ok());
  auto last_local = db->Put("telemetry", Reading("d", 100, 100));
  ASSERT_TRUE(last_local.ok());
  RemoteChange c;
  c.table = "telemetry";
  c.key = Key("peer", 1);
  c.new_item = Reading("peer", 1, 7);
  c.version = clock::Version{clock_.NowMs() + 60'000, 9, kPeer};
  ASSERT_TRUE(db->ApplyRemote({c}).ok());
  const clock::Version highest = c.version;
  ASSERT_TRUE(db->Backup(dir_.File("restored.db")).ok());
  db.reset();
  ASSERT_TRUE(Storage::PrepareRestored(dir_.File("restored.db"), 0x5EED).ok());

  // The gateway booted with its wall clock a day behind.
  clock_.SetMs(clock_.NowMs() - 24 * 3600 * 1000);
  auto restored = OpenAt("restored.db");
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->replica_id(), 0x5EEDu);
  auto fresh = restored->Put("telemetry", Reading("new", 1, 1));
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->version > highest) << fresh->version.ToString() << " <= " << highest.ToString();
  EXPECT_EQ(fresh->version.replica, 0x5EEDu);
  auto over = restored->Put("telemetry", Reading("d", 100, 101));
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(over->version > last_local->version);
  EXPECT_TRUE(over->version > fresh->version);
  // Sequences go on from the copy's (invariant 3).
  EXPECT_EQ(fresh->seq, 23);
}

TEST_F(BackupTest, PrepareRestoredRefusesWhatIsNotAGoodEdgeTableCopy) {
  EXPECT_EQ(Storage::PrepareRestored(dir_.File("missing.db")).status().code(), Status::Code::kNotFound);
  {
    std::ofstream f(dir_.File("garbage.db"), std::ios::binary);
    f << std::string(8192, 'x');
  }
  EXPECT_EQ(Storage::PrepareRestored(dir_.File("garbage.db")).status().code(), Status::Code::kCorruption);
  {
    auto plain = sqlite::Db::Open(dir_.File("plain.db"), sqlite::Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE((*plain)->Exec("CREATE TABLE t(x)").ok());
  }
  EXPECT_EQ(Storage::PrepareRestored(dir_.File("plain.db")).status().code(), Status::Code::kCorruption);

  uint64_t id = 0;
  {
    auto db = OpenAt("live.db");
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());
    const std::string pad(2000, 'q');
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(db->Put("telemetry", Reading("d", i, i, pad)).ok());
    id = db->replica_id();
    ASSERT_TRUE(db->Backup(dir_.File("good.db")).ok());
  }
  std::filesystem::copy_file(dir_.File("good.db"), dir_.File("same.db"));
  auto same = Storage::PrepareRestored(dir_.File("same.db"), id);
  EXPECT_EQ(same.status().code(), Status::Code::kInvalidArgument);

  // Damage pages in the middle of a copy: refused, and left unchanged.
  std::filesystem::copy_file(dir_.File("good.db"), dir_.File("damaged.db"));
  {
    std::fstream f(dir_.File("damaged.db"), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(dir_.File("damaged.db")) / 2));
    f << std::string(3 * 4096, '\x5a');
  }
  const auto size = std::filesystem::file_size(dir_.File("damaged.db"));
  auto damaged = Storage::PrepareRestored(dir_.File("damaged.db"));
  EXPECT_EQ(damaged.status().code(), Status::Code::kCorruption) << damaged.status().ToString();
  EXPECT_EQ(std::filesystem::file_size(dir_.File("damaged.db")), size);
  EXPECT_EQ(QueryInt(dir_.File("damaged.db"), "SELECT value FROM meta WHERE key='replica_id'"),
            static_cast<int64_t>(id));
}

}  // namespace
}  // namespace edgetable::storage
