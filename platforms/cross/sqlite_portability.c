/* Stand-in database fixture for platforms/cross/db-portability.sh: writes and
 * verifies a SQLite database in WAL mode with plain SQLite, so that the
 * cross-architecture mechanism (x86-64 <-> arm64 <-> armhf) runs before
 * EdgeTable's own fixture (tests/cross/db_portability) exists. It has the
 * same command line:
 *
 *   sqlite_portability write DIR [--keep-wal]   create DIR/edgetable.db
 *   sqlite_portability verify DIR               open it, check every row
 *
 * Both print "digest <hex>": a hash of every row in key order, equal on every
 * architecture when they read the same data. Exit 0 on success, 1 when the
 * data differ, 2 on a usage or SQLite error.
 *
 * The rows cover what differs between the targets: 64-bit integers past
 * 2^31 and 2^32 (long is 32 bits on armhf), times after 2038 (time_t is 32
 * bits there), doubles, blobs with every byte value and a 300 KB blob that
 * spans overflow pages. --keep-wal leaves the last commits in the -wal file,
 * as a copy of a running gateway's data directory would.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kRows = 2000, kBigBlobBytes = 300 * 1024 };

static int fail(sqlite3* db, const char* what) {
  fprintf(stderr, "sqlite_portability: %s: %s\n", what, db ? sqlite3_errmsg(db) : "open failed");
  return 2;
}

/* Deterministic row i: id, a signed 64-bit value, a time in ms after 2038, a
 * double, a text and a blob. */
static int64_t row_big(int i) { return (int64_t)i * INT64_C(4294967311) - INT64_C(4611686018427387904); }
static int64_t row_ms(int i) { return INT64_C(4102444800000) + (int64_t)i * 86400000; }
static double row_real(int i) { return (double)i / 7.0 - 1e10; }
static int row_blob(int i, unsigned char* buf) {
  int n = (i % 64) + 1;
  for (int k = 0; k < n; k++) buf[k] = (unsigned char)((i * 31 + k * 7) & 0xff);
  return n;
}

/* FNV-1a, 64-bit: enough to compare two readings of the same rows. */
static uint64_t fnv(uint64_t h, const void* p, size_t n) {
  const unsigned char* b = p;
  for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * UINT64_C(1099511628211);
  return h;
}

static int check_rows(sqlite3* db);

static int write_db(const char* path, int keep_wal) {
  sqlite3* db = NULL;
  remove(path);
  if (sqlite3_open(path, &db) != SQLITE_OK) return fail(db, "open");
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                   "CREATE TABLE items(id INTEGER PRIMARY KEY, big INTEGER NOT NULL,"
                   " ms INTEGER NOT NULL, r REAL NOT NULL, t TEXT NOT NULL, b BLOB NOT NULL);",
                   NULL, NULL, NULL) != SQLITE_OK)
    return fail(db, "schema");
  sqlite3_stmt* ins = NULL;
  if (sqlite3_prepare_v2(db, "INSERT INTO items VALUES(?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK)
    return fail(db, "prepare");
  unsigned char* blob = malloc(kBigBlobBytes);
  if (!blob) return 2;
  for (int i = 0; i < kRows; i++) {
    /* Half the rows in one transaction, the rest one by one: the latter stay
     * in the WAL when --keep-wal is given. */
    if (i == 0) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    char text[64];
    snprintf(text, sizeof text, "device-%04d/\xc3\xa9t\xc3\xa9", i);
    int n = i == kRows - 1 ? kBigBlobBytes : row_blob(i, blob);
    if (i == kRows - 1)
      for (int k = 0; k < n; k++) blob[k] = (unsigned char)(k * 13);
    sqlite3_bind_int64(ins, 1, i);
    sqlite3_bind_int64(ins, 2, row_big(i));
    sqlite3_bind_int64(ins, 3, row_ms(i));
    sqlite3_bind_double(ins, 4, row_real(i));
    sqlite3_bind_text(ins, 5, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(ins, 6, blob, n, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) return fail(db, "insert");
    sqlite3_reset(ins);
    if (i == kRows / 2) {
      if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return fail(db, "commit");
      if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
        return fail(db, "checkpoint");
    }
  }
  sqlite3_finalize(ins);
  free(blob);
  /* Read back on the same connection, so that --keep-wal keeps its WAL. */
  int rc = check_rows(db);
  if (keep_wal) {
    /* Leave the -wal file behind: close without the final checkpoint. */
    int off = 0;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){1});
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &off);
  }
  if (sqlite3_close(db) != SQLITE_OK) return fail(db, "close");
  return rc;
}

static int check_rows(sqlite3* db) {
  sqlite3_stmt* q = NULL;
  if (sqlite3_prepare_v2(db, "SELECT id, big, ms, r, t, b FROM items ORDER BY id", -1, &q, NULL) !=
      SQLITE_OK)
    return fail(db, "prepare");
  uint64_t h = UINT64_C(14695981039346656037);
  int rows = 0, bad = 0;
  unsigned char want[64];
  while (sqlite3_step(q) == SQLITE_ROW) {
    int i = sqlite3_column_int(q, 0);
    int64_t big = sqlite3_column_int64(q, 1), ms = sqlite3_column_int64(q, 2);
    double r = sqlite3_column_double(q, 3);
    const unsigned char* t = sqlite3_column_text(q, 4);
    const void* b = sqlite3_column_blob(q, 5);
    int n = sqlite3_column_bytes(q, 5);
    {
      char text[64];
      snprintf(text, sizeof text, "device-%04d/\xc3\xa9t\xc3\xa9", i);
      int ok = i == rows && big == row_big(i) && ms == row_ms(i) && r == row_real(i) &&
               strcmp((const char*)t, text) == 0;
      if (i == kRows - 1) {
        ok = ok && n == kBigBlobBytes;
        for (int k = 0; ok && k < n; k++) ok = ((const unsigned char*)b)[k] == (unsigned char)(k * 13);
      } else {
        ok = ok && n == row_blob(i, want) && memcmp(b, want, (size_t)n) == 0;
      }
      if (!ok && bad++ < 5) fprintf(stderr, "sqlite_portability: row %d differs\n", i);
    }
    h = fnv(h, &big, sizeof big);
    h = fnv(h, &ms, sizeof ms);
    h = fnv(h, &r, sizeof r);
    h = fnv(h, t, strlen((const char*)t));
    h = fnv(h, b, (size_t)n);
    rows++;
  }
  sqlite3_finalize(q);
  if (rows != kRows) {
    fprintf(stderr, "sqlite_portability: %d rows, expected %d\n", rows, kRows);
    bad++;
  }
  printf("rows %d digest %016llx\n", rows, (unsigned long long)h);
  return bad ? 1 : 0;
}

static int verify_db(const char* path) {
  sqlite3* db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) return fail(db, "open");
  int rc = check_rows(db);
  if (sqlite3_close(db) != SQLITE_OK) return fail(db, "close");
  return rc;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sqlite_portability write|verify DIR [--keep-wal]\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/edgetable.db", argv[2]);
  if (strcmp(argv[1], "write") == 0) {
    int keep_wal = argc > 3 && strcmp(argv[3], "--keep-wal") == 0;
    /* Prints the digest the readers must reproduce. */
    return write_db(path, keep_wal);
  }
  if (strcmp(argv[1], "verify") == 0) return verify_db(path);
  fprintf(stderr, "sqlite_portability: unknown command '%s'\n", argv[1]);
  return 2;
}
