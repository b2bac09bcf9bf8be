#include "edge/storage/internal/sqlite.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace edgetable::storage::sqlite {
namespace {

using edgetable::testing::TempDir;

std::unique_ptr<Db> OpenDb(const std::string& path) {
  auto db = Db::Open(path, Db::Mode::kReadWriteCreate);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(*db);
}

TEST(SqliteTest, BindStepAndColumns) {
  TempDir dir;
  auto db = OpenDb(dir.File("a.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY, b BLOB, s TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES(?1, ?2, ?3)");
  ASSERT_TRUE(ins.ok());
  const std::string blob("a\0b\xff", 4);
  ASSERT_TRUE((*ins)->BindInt64(1, INT64_MIN).ok());
  ASSERT_TRUE((*ins)->BindBlob(2, blob).ok());
  ASSERT_TRUE((*ins)->BindText(3, "text").ok());
  ASSERT_TRUE((*ins)->Run().ok());
  (*ins)->Reset();
  ASSERT_TRUE((*ins)->BindInt64(1, 7).ok());
  ASSERT_TRUE((*ins)->BindBlob(2, "").ok());  // empty blob, not NULL
  ASSERT_TRUE((*ins)->Run().ok());
  EXPECT_EQ(db->Changes(), 1);
  EXPECT_EQ(db->LastInsertRowid(), 7);

  auto sel = db->Prepare("SELECT k, b, s, b IS NULL FROM t ORDER BY k");
  ASSERT_TRUE(sel.ok());
  auto row = (*sel)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*sel)->ColumnInt64(0), INT64_MIN);
  EXPECT_EQ((*sel)->ColumnBlob(1), blob);
  EXPECT_EQ((*sel)->ColumnText(2), "text");
  row = (*sel)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*sel)->ColumnBlob(1), "");
  EXPECT_EQ((*sel)->ColumnInt64(3), 0);
  EXPECT_TRUE((*sel)->ColumnIsNull(2));
  row = (*sel)->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST(SqliteTest, ErrorsBecomeStatusCodes) {
  TempDir dir;
  auto db = OpenDb(dir.File("a.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
  Status dup = db->Exec("INSERT INTO t VALUES(1)");
  EXPECT_EQ(dup.code(), Status::Code::kAlreadyExists) << dup.ToString();
  auto bad = db->Prepare("SELEKT 1");
  EXPECT_EQ(bad.status().code(), Status::Code::kInternal);
  EXPECT_NE(bad.status().message().find("SELEKT"), std::string::npos);

  auto missing = Db::Open(dir.File("nope/missing.db"), Db::Mode::kReadOnly);
  EXPECT_EQ(missing.status().code(), Status::Code::kIOError) << missing.status().ToString();

  {
    std::ofstream f(dir.File("garbage.db"), std::ios::binary);
    f << std::string(8192, 'x');
  }
  auto g = OpenDb(dir.File("garbage.db"));
  EXPECT_EQ(g->Exec("SELECT * FROM sqlite_master").code(), Status::Code::kCorruption);
}

TEST(SqliteTest, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = OpenDb(dir.File("a.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY)").ok());
  {
    auto txn = Transaction::BeginImmediate(db.get());
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
    EXPECT_TRUE(db->InTransaction());
  }
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 0);
  {
    auto txn = Transaction::BeginImmediate(db.get());
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(2)").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST(SqliteTest, SavepointUndoesOnlyItsOwnWork) {
  TempDir dir;
  auto db = OpenDb(dir.File("a.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY)").ok());
  auto txn = Transaction::BeginImmediate(db.get());
  ASSERT_TRUE(txn.ok());
  {
    auto sp = Savepoint::Begin(db.get());
    ASSERT_TRUE(sp.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
    ASSERT_TRUE((*sp)->Release().ok());
  }
  {
    auto sp = Savepoint::Begin(db.get());
    ASSERT_TRUE(sp.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(2)").ok());
    // Destroyed without Release(): rolled back.
  }
  {
    auto sp = Savepoint::Begin(db.get());
    ASSERT_TRUE(sp.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(3)").ok());
    ASSERT_TRUE((*sp)->Rollback().ok());
  }
  EXPECT_TRUE(db->InTransaction());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(*db->QueryInt("SELECT group_concat(k) FROM t"), 1);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 1);
}

}  // namespace
}  // namespace edgetable::storage::sqlite
