// The seeded sync simulation (STYLE.md, section 6; DESIGN.md, "Sync").
//
// Each seed builds a small replication tree in one process: a top hub and
// three edges, or (some seeds) two tiers, where a mid hub with its own
// upstream serves two of the edges. Every node is a Storage on its own file
// with its own FakeClock, skewed by up to an hour and jumping forwards and
// backwards during the run. Every node writes random puts, updates, deletes
// and transactions on a few keys, so that conflicts are frequent; clients
// push and pull one batch at a time in a random order over SimTransports
// that lose, duplicate and replay requests and replies, and partition nodes;
// nodes crash and restart (Client, Hub and Storage destroyed, the Storage
// reopened from its file). Then the network heals, the clocks agree, and the
// clients sync until nothing moves.
//
// Checked on every node after every step:
//  - the change log is dense, the versions this replica issues increase, and
//    the version stored for a key never decreases (storage invariants 3-5);
//  - a transaction is all or nothing: when a key holds a transaction's write,
//    every other key of that transaction holds that write or a newer one;
//  - (4) with the refuse skew policy, the HLC is never further ahead of the
//    node's own wall clock (the highest reading it ever had) than the skew
//    bound, plus the clock lease a restart may add (storage invariant 4).
// Checked after healing:
//  (1) every replica holds the same items with the same versions,
//      tombstones included;
//  (2) no acknowledged write is lost: each key holds the highest version
//      written to it anywhere, with that write's item (or a tombstone), and
//      no version that no write made;
//  (3) every recorded conflict agrees with the final state: its loser is not
//      the final version, its winner is not newer than the final version,
//      and both are versions that were written to that key.
//
// Flags (after gtest's own): --seed=N replays one seed; --seeds=K runs K
// seeds from --seed_start=S (default 1); --verbose prints what each seed did;
// --trace also prints every step; --log=LEVEL sets the log level (default error).
// A failure names its seed in every assertion message.

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/base/clock.h"
#include "edge/base/log.h"
#include "edge/base/status.h"
#include "edge/clock/version.h"
#include "edge/item/json.h"
#include "edge/item/key.h"
#include "edge/item/number.h"
#include "edge/item/value.h"
#include "edge/storage/storage.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"
#include "sync/protocol/sync_types.h"
#include "tests/sim/sim_transport.h"
#include "tests/support/temp_dir.h"

namespace edgetable::sim {
namespace {

using clock::Version;

// --- Flags and totals ---------------------------------------------------------

uint64_t g_seed_start = 1;
uint64_t g_seed_count = 1;
bool g_verbose = false;
bool g_trace = false;

// Over every seed run, printed at the end: shows what the runs exercised.
struct Totals {
  int64_t seeds = 0;
  int64_t two_tier = 0;
  int64_t writes = 0;
  int64_t transactions = 0;
  int64_t restarts = 0;
  int64_t clock_jumps = 0;
  int64_t partitions = 0;
  int64_t sync_ok = 0;
  int64_t sync_failed = 0;
  int64_t conflicts = 0;            // conflict records, over every node
  int64_t txns_seen_elsewhere = 0;  // (transaction, replica) pairs checked away from the writer
  int64_t heal_rounds = 0;
  SimTransportCounters net;
};
Totals g_totals;

// The clock lease (storage invariant 4): a reopened Storage starts its HLC
// up to this far above the last version it issued or observed.
constexpr int64_t kLeaseAllowanceMs = 1000;
constexpr int64_t kHourMs = 3600 * 1000;
constexpr int kHealRoundsMax = 12;
constexpr int kScanPage = 100;

// --- Small helpers -----------------------------------------------------------

// splitmix64: derives independent seeds (per node transport) from one.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The simulation's dice. Plain arithmetic on the engine's output, so that a
// seed means the same run with every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : e_(Mix(seed)) {}
  uint64_t Below(uint64_t n) { return e_() % n; }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  double Unit() { return static_cast<double>(e_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  std::mt19937_64 e_;
};

// A key as stored: table name and encoded key bytes (edge/item/key.h), the
// same identity the change log uses.
struct KeyId {
  std::string table;
  std::string pk;
  std::string sk;
  auto operator<=>(const KeyId&) const = default;
};

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string KeyText(const KeyId& k) {
  return k.table + "[" + Hex(k.pk) + (k.sk.empty() ? "" : "/" + Hex(k.sk)) + "]";
}

std::string ItemText(const std::optional<item::Item>& it) {
  return it ? item::ItemToJson(*it).dump() : std::string("<deleted>");
}

// Parses Version::ToString(): "<hlc_ms>.<counter>@<replica hex>".
std::optional<Version> ParseVersion(std::string_view s) {
  Version v;
  const size_t dot = s.find('.');
  const size_t at = s.find('@');
  if (dot == std::string_view::npos || at == std::string_view::npos || at < dot) return std::nullopt;
  const char* b = s.data();
  if (std::from_chars(b, b + dot, v.hlc_ms).ec != std::errc()) return std::nullopt;
  if (std::from_chars(b + dot + 1, b + at, v.counter).ec != std::errc()) return std::nullopt;
  if (std::from_chars(b + at + 1, b + s.size(), v.replica, 16).ec != std::errc()) return std::nullopt;
  return v;
}

int64_t NumberOf(const item::Value& v) { return std::strtoll(v.n().ToString().c_str(), nullptr, 10); }

// --- The simulation ----------------------------------------------------------

constexpr std::string_view kDevices = "devices";    // partition key "id" (S)
constexpr std::string_view kReadings = "readings";  // "dev" (S) + sort key "t" (N)

struct WriteRec {
  Version version;
  std::optional<item::Item> item;  // nullopt: a delete
  std::string node;
};

struct TxnRec {
  int64_t id = 0;
  std::string node;
  std::vector<std::pair<KeyId, Version>> parts;
};

struct Node {
  std::string name;
  int index = 0;
  int parent = -1;  // the upstream node; -1 for the top hub
  int depth = 0;
  std::vector<int> children;
  uint64_t replica = 0;
  std::string path;
  std::string token;  // this node's bearer token at its upstream
  FakeClock clock;
  int64_t offset_ms = 0;    // this node's wall clock minus the simulation's time
  int64_t wall_max_ms = 0;  // the highest wall clock reading this node ever had
  int restarts = 0;

  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<sync::Hub> hub;           // when it has children
  std::unique_ptr<SimTransport> transport;  // to its parent (outlives restarts)
  std::unique_ptr<sync::Client> client;     // when it has a parent

  // Read from the change log (RefreshLog): every key's stored version,
  // tombstones included.
  int64_t log_seq = 0;
  Version last_local;
  std::map<KeyId, Version> versions;
};

struct Final {
  Version version;
  std::optional<item::Item> item;  // nullopt: a tombstone
};
using Digest = std::map<KeyId, Final>;

class Simulation {
 public:
  explicit Simulation(uint64_t seed) : seed_(seed), rng_(seed) {}

  void Run() {
    ASSERT_NO_FATAL_FAILURE(Setup());
    for (int step = 0; step < steps_; ++step) {
      ASSERT_NO_FATAL_FAILURE(Step());
      ASSERT_NO_FATAL_FAILURE(CheckAllNodes());
    }
    ASSERT_NO_FATAL_FAILURE(Heal());
    ASSERT_NO_FATAL_FAILURE(CheckFinal());
    Report();
  }

 private:
  // --trace: one line per event, to follow a failing seed.
  template <typename... Args>
  void Trace(const Args&... args) {
    if (!g_trace) return;
    std::ostringstream line;
    (line << ... << args);
    std::printf("  [%" PRId64 "] %s\n", now_ms_, line.str().c_str());
  }

  static std::string Clocks(const Node& n) {
    return n.name + " wall " + std::to_string(n.clock.NowMs()) + " hlc " +
           n.storage->LastVersion().ToString();
  }

  // --- Setup ---

  void Setup() {
    two_tier_ = rng_.Chance(0.35);
    refuse_ = rng_.Chance(0.75);
    max_skew_ms_ = rng_.Chance(0.6) ? 10 * 60 * 1000 : 90 * 60 * 1000;
    device_keys_ = static_cast<int>(rng_.Between(3, 5));
    readings_ = rng_.Chance(0.5);
    readings_lazy_ = readings_ && rng_.Chance(0.5);
    const std::vector<int> caps = {2, 3, 5, 50, 2000};
    batch_changes_max_ = static_cast<int>(rng_.Pick(caps));
    pull_changes_max_ = static_cast<int>(rng_.Pick(caps));
    steps_ = static_cast<int>(rng_.Between(60, 120));
    if (!rng_.Chance(0.1)) {
      faults_.drop_request = rng_.Unit() * 0.25;
      faults_.drop_reply = rng_.Unit() * 0.25;
      faults_.duplicate = rng_.Unit() * 0.15;
      faults_.replay = rng_.Unit() * 0.15;
    }

    schemas_[std::string(kDevices)] = item::KeySchema{{"id", item::Type::kS}, std::nullopt};
    schemas_[std::string(kReadings)] =
        item::KeySchema{{"dev", item::Type::kS}, item::KeyAttribute{"t", item::Type::kN}};

    AddNode("hub", -1);
    if (two_tier_) {
      const int mid = AddNode("mid", 0);
      AddNode("e1", mid);
      AddNode("e2", mid);
      AddNode("e3", 0);
    } else {
      AddNode("e1", 0);
      AddNode("e2", 0);
      AddNode("e3", 0);
    }
    for (auto& n : nodes_) {
      n->offset_ms = rng_.Chance(0.2) ? 0 : rng_.Between(-kHourMs, kHourMs);
      n->clock.SetMs(now_ms_ + n->offset_ms);
      n->wall_max_ms = n->clock.NowMs();
      if (n->parent >= 0) {
        n->transport =
            std::make_unique<SimTransport>(Mix(seed_ * 131 + static_cast<uint64_t>(n->index)), n->token);
        n->transport->SetFaults(faults_);
      }
    }
    // Parents first, so that a child's transport finds its hub.
    for (auto& n : nodes_) ASSERT_NO_FATAL_FAILURE(Open(*n));
    for (auto& n : nodes_) {
      ASSERT_NO_FATAL_FAILURE(CreateTable(*n, std::string(kDevices)));
      if (readings_ && (!readings_lazy_ || n->parent < 0)) {
        ASSERT_NO_FATAL_FAILURE(CreateTable(*n, std::string(kReadings)));
      }
    }
  }

  int AddNode(const std::string& name, int parent) {
    auto n = std::make_unique<Node>();
    n->name = name;
    n->index = static_cast<int>(nodes_.size());
    n->parent = parent;
    n->depth = parent < 0 ? 0 : nodes_[static_cast<size_t>(parent)]->depth + 1;
    n->replica = 0x5100 + static_cast<uint64_t>(n->index);
    n->path = dir_.File(name + ".db");
    n->token = "token-" + name;
    if (parent >= 0) nodes_[static_cast<size_t>(parent)]->children.push_back(n->index);
    nodes_.push_back(std::move(n));
    return nodes_.back()->index;
  }

  Node& At(int i) { return *nodes_[static_cast<size_t>(i)]; }

  void CreateTable(Node& n, const std::string& table) {
    auto r = n.storage->CreateTable(table, schemas_.at(table));
    ASSERT_TRUE(r.ok()) << n.name << ": CreateTable " << table << ": " << r.status().ToString();
  }

  // Opens the node's Storage from its file, then its Hub and Client.
  void Open(Node& n) {
    storage::Options o;
    o.path = n.path;
    o.clock = &n.clock;
    o.replica_id = n.replica;
    o.ttl_sweep_interval_ms = 0;  // no maintenance thread: nothing moves unless the simulation says so
    o.no_upstream = n.parent < 0;
    o.writer_cache_bytes = 1 << 20;
    o.reader_cache_bytes = 256 << 10;
    o.reader_connections_max = 2;
    auto s = storage::Storage::Open(o);
    ASSERT_TRUE(s.ok()) << n.name << ": Storage::Open: " << s.status().ToString();
    n.storage = std::move(s).value();
    ASSERT_EQ(n.storage->replica_id(), n.replica) << n.name;

    if (!n.children.empty()) {
      sync::HubOptions h;
      for (int c : n.children) {
        sync::PeerConfig p;
        p.name = At(c).name;
        p.token = At(c).token;
        h.peers.push_back(p);
      }
      h.max_skew_ms = max_skew_ms_;
      h.skew_policy = refuse_ ? sync::SkewPolicy::kRefuse : sync::SkewPolicy::kClamp;
      h.pull_changes_max = pull_changes_max_;
      h.clock = &n.clock;
      auto hub = sync::Hub::Create(n.storage.get(), h);
      ASSERT_TRUE(hub.ok()) << n.name << ": Hub::Create: " << hub.status().ToString();
      n.hub = std::move(hub).value();
      for (int c : n.children) At(c).transport->SetHub(n.hub.get());
    }
    if (n.parent >= 0) {
      sync::ClientOptions c;
      c.batch_changes_max = batch_changes_max_;
      c.max_skew_ms = max_skew_ms_;
      c.skew_policy = refuse_ ? sync::SkewPolicy::kRefuse : sync::SkewPolicy::kClamp;
      c.clock = &n.clock;
      c.jitter_seed = Mix(seed_ + 7 * static_cast<uint64_t>(n.index) + 1);
      auto client = sync::Client::Create(n.storage.get(), n.transport.get(), c);
      ASSERT_TRUE(client.ok()) << n.name << ": Client::Create: " << client.status().ToString();
      n.client = std::move(client).value();
    }
  }

  // A crash as far as one process can tell: every object of the node is
  // destroyed and the node starts again from its file.
  void Restart(Node& n) {
    n.client.reset();
    for (int c : n.children) At(c).transport->SetHub(nullptr);
    n.hub.reset();
    n.storage.reset();
    ++n.restarts;
    ++restarts_;
    ASSERT_NO_FATAL_FAILURE(Open(n));
  }

  // --- One step ---

  void Step() {
    // Time passes for everybody; each node reads it through its own offset.
    const int64_t delta = rng_.Chance(0.05) ? rng_.Between(2000, 120000) : rng_.Between(0, 1500);
    now_ms_ += delta;
    for (auto& n : nodes_) {
      n->clock.AdvanceMs(delta);
      n->wall_max_ms = std::max(n->wall_max_ms, n->clock.NowMs());
      if (n->transport) n->transport->Step();
    }

    const uint64_t dice = rng_.Below(100);
    if (dice < 42) {
      ASSERT_NO_FATAL_FAILURE(Write(At(static_cast<int>(rng_.Below(nodes_.size())))));
    } else if (dice < 86) {
      ASSERT_NO_FATAL_FAILURE(SyncStep());
    } else if (dice < 91) {
      // The wall clock jumps: a new skew anywhere within the hour, or a small nudge.
      Node& n = At(static_cast<int>(rng_.Below(nodes_.size())));
      n.offset_ms =
          rng_.Chance(0.5) ? rng_.Between(-kHourMs, kHourMs) : n.offset_ms + rng_.Between(-300000, 300000);
      n.offset_ms = std::clamp(n.offset_ms, -kHourMs, kHourMs);
      n.clock.SetMs(now_ms_ + n.offset_ms);
      n.wall_max_ms = std::max(n.wall_max_ms, n.clock.NowMs());
      ++clock_jumps_;
      if (g_trace) Trace("clock jump: ", Clocks(n), " (offset ", n.offset_ms, ")");
    } else if (dice < 95) {
      Node& n = At(static_cast<int>(rng_.Below(nodes_.size())));
      ASSERT_NO_FATAL_FAILURE(Restart(n));
      if (g_trace) Trace("restart: ", Clocks(n));
    } else {
      // A node loses the network for a while (a hub loses all its children).
      Node& n = At(static_cast<int>(rng_.Below(nodes_.size())));
      const int steps = static_cast<int>(rng_.Between(1, 20));
      if (n.transport) n.transport->Partition(steps);
      for (int c : n.children) At(c).transport->Partition(steps);
      ++partitions_;
      if (g_trace) Trace("partition: ", n.name, " for ", steps, " steps");
    }
  }

  void SyncStep() {
    std::vector<int> clients;
    for (auto& n : nodes_) {
      if (n->client) clients.push_back(n->index);
    }
    Node& n = At(rng_.Pick(clients));
    const uint64_t dice = rng_.Below(100);
    bool more = false;
    Status s;
    if (dice < 45) {
      s = n.client->PushOnce(&more);
    } else if (dice < 90) {
      s = n.client->PullOnce(&more);
    } else {
      s = n.client->SyncOnce(3);
    }
    const std::string events = n.transport->TakeEvents();
    if (g_trace)
      Trace(dice < 45   ? "push "
            : dice < 90 ? "pull "
                        : "sync ",
            Clocks(n), ": ", s.ToString(), more ? " (more)" : "", " [", events, "]");
    // Failures are the network's doing (or a refused skew): the next step retries.
    if (s.ok()) {
      ++sync_ok_;
    } else {
      ++sync_failed_;
      if (g_verbose) last_sync_error_ = n.name + ": " + s.ToString();
    }
  }

  // --- Writes ---

  item::Item KeyOf(std::string_view table, int a, int b) {
    item::Item key;
    if (table == kDevices) {
      key["id"] = item::Value::S("d" + std::to_string(a));
    } else {
      key["dev"] = item::Value::S("d" + std::to_string(a));
      key["t"] = item::Value::N(item::Number::FromInt(b));
    }
    return key;
  }

  KeyId IdOf(const std::string& table, const item::Map& m) {
    auto k = item::ExtractKey(m, schemas_.at(table));
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    if (!k.ok()) return KeyId{table, "", ""};
    return KeyId{table, k->partition, k->sort};
  }

  item::Item NewItem(const item::Item& key, const Node& n, int64_t count) {
    item::Item it = key;
    it["v"] = item::Value::N(item::Number::FromInt(++write_no_));
    it["by"] = item::Value::S(n.name);
    it["n"] = item::Value::N(item::Number::FromInt(count));
    return it;
  }

  void Record(const Node& n, const std::string& table, const item::Map& key,
              const storage::WriteOutcome& out) {
    if (!out.changed) return;
    EXPECT_FALSE(out.version.is_zero()) << n.name << ": a changed write without a version";
    EXPECT_EQ(out.version.replica, n.replica) << n.name << ": a local write stamped by another replica";
    writes_[IdOf(table, key)].push_back(WriteRec{out.version, out.new_item, n.name});
    if (g_trace)
      Trace("write ", n.name, " ", KeyText(IdOf(table, key)), " -> ", out.version.ToString(), " ",
            ItemText(out.new_item));
    ++writes_ok_;
  }

  void Write(Node& n) {
    std::string table(kDevices);
    if (readings_ && rng_.Chance(0.3) && n.storage->DescribeTable(std::string(kReadings)).ok()) {
      table = std::string(kReadings);
    }
    auto random_key = [&](const std::string& t) {
      if (t == kDevices)
        return KeyOf(t, static_cast<int>(rng_.Below(static_cast<uint64_t>(device_keys_))), 0);
      return KeyOf(t, static_cast<int>(rng_.Below(2)), static_cast<int>(rng_.Between(1, 2)));
    };
    const uint64_t dice = rng_.Below(100);
    if (dice < 35) {
      const item::Item key = random_key(table);
      auto r = n.storage->Put(table, NewItem(key, n, 1));
      ASSERT_TRUE(r.ok()) << n.name << ": Put: " << r.status().ToString();
      Record(n, table, key, *r);
    } else if (dice < 70) {
      // Read-modify-write on the writer thread; conditional writes need an item.
      const item::Item key = random_key(table);
      const bool conditional = rng_.Chance(0.3);
      const item::Item fresh = NewItem(key, n, 1);
      storage::Write w;
      w.table = table;
      w.key = key;
      w.fn = [fresh, conditional](const item::Item* current) -> Result<storage::Decision> {
        if (current == nullptr && conditional) return Status::ConditionFailed("sim: no item to update");
        item::Item it = fresh;
        if (current != nullptr) {
          auto c = current->find("n");
          if (c != current->end() && c->second.is(item::Type::kN)) {
            it["n"] = item::Value::N(item::Number::FromInt(NumberOf(c->second) + 1));
          }
        }
        return storage::Decision::Put(std::move(it));
      };
      auto r = n.storage->Apply(std::move(w));
      if (!r.ok() && conditional && r.status().code() == Status::Code::kConditionFailed) return;
      ASSERT_TRUE(r.ok()) << n.name << ": Apply: " << r.status().ToString();
      Record(n, table, key, *r);
    } else if (dice < 88) {
      const item::Item key = random_key(table);
      auto r = n.storage->Delete(table, key);
      ASSERT_TRUE(r.ok()) << n.name << ": Delete: " << r.status().ToString();
      Record(n, table, key, *r);
    } else {
      ASSERT_NO_FATAL_FAILURE(Transact(n));
    }
  }

  // 2-3 keys of devices written as one transaction, each item marked with
  // the transaction's id (and now and then one of them deleted instead).
  void Transact(Node& n) {
    const std::string table(kDevices);
    std::vector<int> ids;
    for (int i = 0; i < device_keys_; ++i) ids.push_back(i);
    const size_t count = std::min<size_t>(ids.size(), static_cast<size_t>(rng_.Between(2, 3)));
    for (size_t i = 0; i < count; ++i) std::swap(ids[i], ids[i + rng_.Below(ids.size() - i)]);
    const int64_t txn = ++txn_no_;
    std::vector<storage::Write> writes;
    std::vector<item::Item> keys;
    for (size_t i = 0; i < count; ++i) {
      item::Item key = KeyOf(table, ids[i], 0);
      storage::Write w;
      w.table = table;
      w.key = key;
      if (rng_.Chance(0.15)) {
        w.fn = [](const item::Item*) -> Result<storage::Decision> { return storage::Decision::Delete(); };
      } else {
        item::Item it = NewItem(key, n, 1);
        it["tx"] = item::Value::S("tx" + std::to_string(txn));
        w.fn = [it](const item::Item*) -> Result<storage::Decision> { return storage::Decision::Put(it); };
      }
      keys.push_back(std::move(key));
      writes.push_back(std::move(w));
    }
    storage::TransactOutcome out = n.storage->Transact(std::move(writes));
    ASSERT_TRUE(out.status.ok()) << n.name << ": Transact: " << out.status.ToString();
    ASSERT_EQ(out.outcomes.size(), keys.size()) << n.name;
    TxnRec rec;
    rec.id = txn;
    rec.node = n.name;
    for (size_t i = 0; i < keys.size(); ++i) {
      Record(n, table, keys[i], out.outcomes[i]);
      if (out.outcomes[i].changed) rec.parts.emplace_back(IdOf(table, keys[i]), out.outcomes[i].version);
    }
    if (rec.parts.size() >= 2) txns_.push_back(std::move(rec));
    ++transactions_;
  }

  // --- Checks while running ---

  // Reads the node's new change records: dense sequences, increasing local
  // versions, stored versions that never decrease.
  void RefreshLog(Node& n) {
    for (;;) {
      auto r = n.storage->ReadChanges(n.log_seq, 500);
      ASSERT_TRUE(r.ok()) << n.name << ": ReadChanges: " << r.status().ToString();
      if (r->empty()) return;
      for (const storage::ChangeRecord& c : *r) {
        ASSERT_EQ(c.seq, n.log_seq + 1) << n.name << ": the change log is not dense";
        n.log_seq = c.seq;
        if (c.table.empty() || c.table.starts_with(sync::kLocalTablePrefix)) continue;
        if (c.source_replica == 0) {
          ASSERT_EQ(c.version.replica, n.replica)
              << n.name << ": local change " << c.seq << " stamped " << c.version.ToString();
          ASSERT_TRUE(c.version > n.last_local)
              << n.name << ": local versions not increasing at seq " << c.seq << ": " << c.version.ToString()
              << " after " << n.last_local.ToString();
          n.last_local = c.version;
        }
        const KeyId k{c.table, c.partition_key, c.sort_key};
        Version& stored = n.versions[k];
        ASSERT_TRUE(c.version > stored)
            << n.name << ": change " << c.seq << " of " << KeyText(k) << " logs version "
            << c.version.ToString() << " not above the stored " << stored.ToString()
            << (c.source_replica == 0 ? " (local write)" : " (applied from a peer)");
        stored = c.version;
      }
    }
  }

  Version StoredVersion(const Node& n, const KeyId& k) {
    auto it = n.versions.find(k);
    return it == n.versions.end() ? Version{} : it->second;
  }

  void CheckAllNodes() {
    for (auto& n : nodes_) {
      ASSERT_NO_FATAL_FAILURE(RefreshLog(*n));
      // A transaction is all or nothing, at every replica at every moment.
      for (const TxnRec& t : txns_) {
        for (const auto& [key, version] : t.parts) {
          if (!(StoredVersion(*n, key) == version)) continue;
          if (t.node != n->name) txns_seen_.insert({t.id, n->index});
          for (const auto& [other, other_version] : t.parts) {
            const Version seen = StoredVersion(*n, other);
            ASSERT_TRUE(seen >= other_version)
                << n->name << " holds tx" << t.id << " (written at " << t.node << ") at " << KeyText(key)
                << " but not at " << KeyText(other) << ": stored " << seen.ToString() << " < "
                << other_version.ToString();
          }
        }
      }
      // (4) With kRefuse, the HLC stays within the skew bound of this node's
      // wall clock. (With kClamp it need not: a local write to a key that
      // holds a clamped version from the future must be newer still, and
      // takes the clock there: versions a replica issues increase.)
      if (!refuse_) continue;
      const Version last = n->storage->LastVersion();
      const int64_t bound = n->wall_max_ms + max_skew_ms_ + kLeaseAllowanceMs * (n->restarts + 1);
      ASSERT_LE(last.hlc_ms, bound) << n->name << ": LastVersion " << last.ToString()
                                    << " is beyond its highest wall clock " << n->wall_max_ms
                                    << " + skew bound " << max_skew_ms_ << " (+ lease after " << n->restarts
                                    << " restarts)";
    }
  }

  // --- Heal ---

  void Heal() {
    // No more faults, nothing late in the network, and every clock reads the
    // same time, past every version issued so far.
    int64_t t = now_ms_;
    for (auto& n : nodes_) {
      t = std::max({t, n->wall_max_ms, n->storage->LastVersion().hlc_ms});
      if (n->transport) {
        n->transport->SetFaults(SimFaults{});
        n->transport->Partition(0);
        n->transport->ClearHistory();
      }
    }
    t += 1000;
    for (auto& n : nodes_) {
      n->offset_ms = 0;
      n->clock.SetMs(t);
      n->wall_max_ms = std::max(n->wall_max_ms, t);
    }
    now_ms_ = t;

    // Deepest first pushes every change up to the top hub; then top-down
    // pulls bring it to every node. Repeat until a round moves nothing.
    std::vector<int> order;
    for (auto& n : nodes_) {
      if (n->client) order.push_back(n->index);
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return At(a).depth > At(b).depth; });
    bool quiet = false;
    for (int round = 0; round < kHealRoundsMax && !quiet; ++round) {
      ++heal_rounds_;
      int64_t before = 0;
      for (int i : order) before += Moved(At(i));
      for (int i : order) ASSERT_NO_FATAL_FAILURE(SyncNode(At(i), round));
      for (auto it = order.rbegin(); it != order.rend(); ++it)
        ASSERT_NO_FATAL_FAILURE(SyncNode(At(*it), round));
      int64_t after = 0;
      for (int i : order) after += Moved(At(i));
      ASSERT_NO_FATAL_FAILURE(CheckAllNodes());
      quiet = after == before;
    }
    ASSERT_TRUE(quiet) << "the clients still move changes after " << kHealRoundsMax
                       << " rounds without faults";
  }

  int64_t Moved(const Node& n) {
    const sync::ClientStats s = n.client->Stats();
    return s.changes_pushed + s.changes_pulled;
  }

  void SyncNode(Node& n, int round) {
    const Status s = n.client->SyncOnce();
    const std::string events = n.transport->TakeEvents();
    if (g_trace) Trace("heal round ", round, ": sync ", Clocks(n), ": ", s.ToString(), " [", events, "]");
    ASSERT_TRUE(s.ok()) << n.name << ": SyncOnce after healing (round " << round << "): " << s.ToString();
  }

  // --- Final checks ---

  std::vector<item::Item> ScanAll(Node& n, const std::string& table) {
    std::vector<item::Item> out;
    storage::ScanRequest req;
    req.table = table;
    req.limit = kScanPage;
    for (;;) {
      auto page = n.storage->Scan(req);
      EXPECT_TRUE(page.ok()) << n.name << ": Scan " << table << ": " << page.status().ToString();
      if (!page.ok()) return out;
      for (auto& it : page->items) out.push_back(std::move(it));
      if (!page->last_evaluated_key) return out;
      req.exclusive_start_key = page->last_evaluated_key;
    }
  }

  // Every replicated key of the node: live items (Scan, GetStored) and
  // tombstones (versions from the change log).
  void BuildDigest(Node& n, Digest* d) {
    for (const auto& [k, v] : n.versions) (*d)[k] = Final{v, std::nullopt};
    for (const auto& [table, schema] : schemas_) {
      if (!n.storage->DescribeTable(table).ok()) continue;
      for (item::Item& it : ScanAll(n, table)) {
        const KeyId k = IdOf(table, it);
        auto found = d->find(k);
        ASSERT_TRUE(found != d->end()) << n.name << ": " << KeyText(k) << " is stored but never logged";
        auto stored = n.storage->GetStored(table, item::KeyOf(it, schema));
        ASSERT_TRUE(stored.ok() && stored->has_value()) << n.name << ": GetStored " << KeyText(k);
        ASSERT_TRUE((*stored)->version == found->second.version)
            << n.name << ": " << KeyText(k) << " stored at " << (*stored)->version.ToString()
            << " but its last change record says " << found->second.version.ToString();
        ASSERT_TRUE((*stored)->item == it) << n.name << ": Scan and GetStored differ at " << KeyText(k);
        found->second.item = std::move(it);
      }
    }
  }

  void CheckFinal() {
    // (1) Every replica holds the same thing.
    std::vector<Digest> digests(nodes_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) ASSERT_NO_FATAL_FAILURE(BuildDigest(*nodes_[i], &digests[i]));
    const Digest& ref = digests[0];
    for (size_t i = 1; i < nodes_.size(); ++i) {
      std::set<KeyId> keys;
      for (const auto& [k, f] : ref) keys.insert(k);
      for (const auto& [k, f] : digests[i]) keys.insert(k);
      for (const KeyId& k : keys) {
        auto a = ref.find(k);
        auto b = digests[i].find(k);
        const bool same = a != ref.end() && b != digests[i].end() && a->second.version == b->second.version &&
                          a->second.item == b->second.item;
        ASSERT_TRUE(same) << "replicas differ at " << KeyText(k) << ": " << nodes_[0]->name << " has "
                          << (a == ref.end() ? "nothing"
                                             : a->second.version.ToString() + " " + ItemText(a->second.item))
                          << ", " << nodes_[i]->name << " has "
                          << (b == digests[i].end()
                                  ? "nothing"
                                  : b->second.version.ToString() + " " + ItemText(b->second.item));
      }
    }

    // (2) No acknowledged write is lost; no version comes from nowhere.
    for (const auto& [k, recs] : writes_) {
      const WriteRec* top = &recs[0];
      for (const WriteRec& w : recs) {
        if (w.version > top->version) top = &w;
      }
      auto f = ref.find(k);
      ASSERT_TRUE(f != ref.end()) << KeyText(k) << ": " << recs.size() << " acknowledged writes, none stored";
      ASSERT_TRUE(f->second.version == top->version)
          << KeyText(k) << ": the final version " << f->second.version.ToString()
          << " is not the highest acknowledged one, " << top->version.ToString() << " (written at "
          << top->node << ": " << ItemText(top->item) << ")";
      ASSERT_TRUE(f->second.item == top->item)
          << KeyText(k) << " at " << top->version.ToString() << ": stored " << ItemText(f->second.item)
          << ", written " << ItemText(top->item);
    }
    for (const auto& [k, f] : ref) {
      ASSERT_TRUE(writes_.count(k) == 1) << KeyText(k) << " is stored but was never written";
    }

    // (3) Every recorded conflict agrees with the final state.
    for (auto& n : nodes_) {
      for (const item::Item& c : ScanAll(*n, std::string(sync::kConflictsTable))) {
        ++conflicts_;
        const auto text = [&c] { return item::ItemToJson(c).dump(); };
        auto attr = [&](const char* name) -> const item::Value* {
          auto it = c.find(name);
          return it == c.end() ? nullptr : &it->second;
        };
        const item::Value* table = attr("table");
        const item::Value* key = attr("key");
        const item::Value* loser_s = attr("loser_version");
        const item::Value* winner_s = attr("winner_version");
        ASSERT_TRUE(table && key && loser_s && winner_s && table->is(item::Type::kS) &&
                    key->is(item::Type::kM) && loser_s->is(item::Type::kS) && winner_s->is(item::Type::kS))
            << n->name << ": malformed conflict record " << text();
        ASSERT_TRUE(schemas_.count(table->s()) == 1) << n->name << ": conflict on unknown table: " << text();
        const KeyId k = IdOf(table->s(), key->m());
        const std::optional<Version> loser = ParseVersion(loser_s->s());
        const std::optional<Version> winner = ParseVersion(winner_s->s());
        ASSERT_TRUE(loser && winner) << n->name << ": unreadable versions in " << text();
        auto f = ref.find(k);
        ASSERT_TRUE(f != ref.end()) << n->name << ": conflict on a key no replica holds: " << text();
        ASSERT_TRUE(*loser < *winner) << n->name << ": the loser is newer than the winner: " << text();
        ASSERT_TRUE(!(*loser == f->second.version))
            << n->name << ": the loser of a conflict is the final version: " << text();
        ASSERT_TRUE(*winner <= f->second.version)
            << n->name << ": the winner " << winner->ToString() << " is newer than the final version "
            << f->second.version.ToString() << ": " << text();
        auto written = [&](const Version& v) {
          auto w = writes_.find(k);
          if (w == writes_.end()) return false;
          return std::any_of(w->second.begin(), w->second.end(),
                             [&](const WriteRec& r) { return r.version == v; });
        };
        ASSERT_TRUE(written(*loser) && written(*winner))
            << n->name << ": a conflict names a version never written to " << KeyText(k) << ": " << text();
      }
    }
  }

  void Report() {
    g_totals.seeds++;
    g_totals.two_tier += two_tier_ ? 1 : 0;
    g_totals.writes += writes_ok_;
    g_totals.transactions += transactions_;
    g_totals.restarts += restarts_;
    g_totals.clock_jumps += clock_jumps_;
    g_totals.partitions += partitions_;
    g_totals.sync_ok += sync_ok_;
    g_totals.sync_failed += sync_failed_;
    g_totals.conflicts += conflicts_;
    g_totals.heal_rounds += heal_rounds_;
    g_totals.txns_seen_elsewhere += static_cast<int64_t>(txns_seen_.size());
    for (auto& n : nodes_) {
      if (!n->transport) continue;
      const SimTransportCounters& c = n->transport->Counters();
      g_totals.net.delivered += c.delivered;
      g_totals.net.dropped_requests += c.dropped_requests;
      g_totals.net.dropped_replies += c.dropped_replies;
      g_totals.net.duplicates += c.duplicates;
      g_totals.net.replays += c.replays;
      g_totals.net.partitioned += c.partitioned;
      g_totals.net.non_200 += c.non_200;
    }
    if (g_verbose) {
      std::printf("seed %" PRIu64 ": %s, %s %" PRId64 " min, caps push %d pull %d, %d steps, %" PRId64
                  " writes (%" PRId64 " txns), %" PRId64 " restarts, sync %" PRId64 " ok / %" PRId64
                  " failed, %" PRId64 " conflict records, %d heal rounds%s%s\n",
                  seed_, two_tier_ ? "two tiers" : "one tier", refuse_ ? "refuse" : "clamp",
                  max_skew_ms_ / 60000, batch_changes_max_, pull_changes_max_, steps_, writes_ok_,
                  transactions_, restarts_, sync_ok_, sync_failed_, conflicts_, heal_rounds_,
                  last_sync_error_.empty() ? "" : "; last sync error: ", last_sync_error_.c_str());
    }
  }

  const uint64_t seed_;
  Rng rng_;
  testing::TempDir dir_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, item::KeySchema> schemas_;
  int64_t now_ms_ = 1'700'000'000'000;

  // This seed's configuration.
  bool two_tier_ = false;
  bool refuse_ = true;
  int64_t max_skew_ms_ = 0;
  int device_keys_ = 3;
  bool readings_ = false;
  bool readings_lazy_ = false;  // the readings table exists only at the top hub at first
  int batch_changes_max_ = 0;
  int pull_changes_max_ = 0;
  int steps_ = 0;
  SimFaults faults_;

  // What happened.
  std::map<KeyId, std::vector<WriteRec>> writes_;
  std::vector<TxnRec> txns_;
  int64_t write_no_ = 0;
  int64_t txn_no_ = 0;
  int64_t writes_ok_ = 0;
  int64_t transactions_ = 0;
  int64_t restarts_ = 0;
  int64_t clock_jumps_ = 0;
  int64_t partitions_ = 0;
  int64_t sync_ok_ = 0;
  int64_t sync_failed_ = 0;
  int64_t conflicts_ = 0;
  int heal_rounds_ = 0;
  std::set<std::pair<int64_t, int>> txns_seen_;  // (transaction, node) checked away from its writer
  std::string last_sync_error_;
};

class SyncSim : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SyncSim, ConvergesWithoutLosingWrites) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay: sync_sim_test --seed=" + std::to_string(seed) +
               ")");
  Simulation sim(seed);
  sim.Run();
}

// Evaluated when gtest registers the tests, after main() has read the flags.
INSTANTIATE_TEST_SUITE_P(Seeds, SyncSim, ::testing::Range(g_seed_start, g_seed_start + g_seed_count),
                         [](const ::testing::TestParamInfo<uint64_t>& param_info) {
                           return "seed" + std::to_string(param_info.param);
                         });

bool ParseFlag(std::string_view arg, std::string_view name, uint64_t* out) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  const std::string_view v = arg.substr(name.size() + 1);
  if (std::from_chars(v.data(), v.data() + v.size(), *out).ec != std::errc()) {
    std::fprintf(stderr, "bad value in %.*s\n", static_cast<int>(arg.size()), arg.data());
    std::exit(2);
  }
  return true;
}

}  // namespace
}  // namespace edgetable::sim

int main(int argc, char** argv) {
  using namespace edgetable::sim;  // NOLINT(google-build-using-namespace)
  // Our flags are read first: the test list depends on them.
  uint64_t seed = 0;
  bool one_seed = false;
  bool log_set = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (ParseFlag(arg, "--seed", &seed)) {
      one_seed = true;
    } else if (ParseFlag(arg, "--seeds", &g_seed_count) || ParseFlag(arg, "--seed_start", &g_seed_start)) {
    } else if (arg == "--verbose") {
      g_verbose = true;
    } else if (arg == "--trace") {
      g_verbose = true;
      g_trace = true;
    } else if (arg.starts_with("--log=")) {
      log_set = true;
      if (!edgetable::log::SetLevel(arg.substr(6))) {
        std::fprintf(stderr, "bad level in %s\n", argv[i]);
        return 2;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  // Storage and sync log at info; refusals (skew) are expected here.
  if (!log_set) (void)edgetable::log::SetLevel("error");
  if (one_seed) {
    g_seed_start = seed;
    g_seed_count = 1;
  }
  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&rest_argc, rest.data());
  const int rc = RUN_ALL_TESTS();
  const Totals& t = g_totals;
  std::printf(
      "sync_sim: %" PRId64 " seeds passed (%" PRId64 " two-tier): %" PRId64 " writes, %" PRId64
      " transactions, %" PRId64 " restarts, %" PRId64 " clock jumps, %" PRId64
      " partitions; sync steps %" PRId64 " ok / %" PRId64 " failed; network: %" PRId64 " delivered, %" PRId64
      " requests and %" PRId64 " replies lost, %" PRId64 " duplicates, %" PRId64 " replays, %" PRId64
      " cut off, %" PRId64 " non-200; %" PRId64 " conflict records; %" PRId64
      " transactions checked at other replicas; %" PRId64 " heal rounds\n",
      t.seeds, t.two_tier, t.writes, t.transactions, t.restarts, t.clock_jumps, t.partitions, t.sync_ok,
      t.sync_failed, t.net.delivered, t.net.dropped_requests, t.net.dropped_replies, t.net.duplicates,
      t.net.replays, t.net.partitioned, t.net.non_200, t.conflicts, t.txns_seen_elsewhere, t.heal_rounds);
  return rc;
}
