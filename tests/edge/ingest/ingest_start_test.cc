// Ingest::Start against real storage with no broker: tables are prepared
// (created with the rule's key schema and TTL attribute, dead-letter table),
// a table that exists with another key schema is refused naming the rule,
// and Stop() returns although the broker never answered.
#include "edge/ingest/ingest.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace edgetable::ingest {
namespace {

Options TestOptions(const std::string& table) {
  RuleConfig c;
  c.topic = "sensors/{device}/telemetry";
  c.table = table;
  c.ttl = "7d";
  Options o;
  o.rules.push_back(*CompileRule(c, 0));
  o.mqtt.broker = "tcp://127.0.0.1:1";  // nothing listens there
  o.mqtt.reconnect_min_ms = 50;
  o.mqtt.reconnect_max_ms = 100;
  return o;
}

TEST(IngestStart, PreparesTables) {
  testing::TempDir dir;
  storage::Options so;
  so.path = dir.File("db");
  auto store = storage::Storage::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().message();
  {
    auto ingest = Ingest::Start(store->get(), TestOptions("telemetry"));
    ASSERT_TRUE(ingest.ok()) << ingest.status().message();
    IngestStats st = (*ingest)->Stats();
    EXPECT_EQ(st.connected, 0);
    (*ingest)->Stop();
  }
  auto t = (*store)->DescribeTable("telemetry");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->key_schema.partition.name, "device");
  EXPECT_EQ(t->key_schema.sort->name, "ts");
  EXPECT_EQ(t->key_schema.sort->type, item::Type::kN);
  EXPECT_EQ(t->settings.ttl_attribute, "expires_at");
  auto dl = (*store)->DescribeTable("edgetable_dead_letters");
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(dl->key_schema.partition.name, "topic");
  EXPECT_EQ(dl->key_schema.sort->name, "received_ms");
  // A second start finds everything in place.
  auto again = Ingest::Start(store->get(), TestOptions("telemetry"));
  ASSERT_TRUE(again.ok()) << again.status().message();
}

TEST(IngestStart, RefusesTableWithOtherSchema) {
  testing::TempDir dir;
  storage::Options so;
  so.path = dir.File("db");
  auto store = storage::Storage::Open(so);
  ASSERT_TRUE(store.ok());
  item::KeySchema other;
  other.partition = item::KeyAttribute{"id", item::Type::kS};
  ASSERT_TRUE((*store)->CreateTable("telemetry", other).ok());
  auto ingest = Ingest::Start(store->get(), TestOptions("telemetry"));
  ASSERT_FALSE(ingest.ok());
  EXPECT_EQ(ingest.status().message(),
            "ingest.rules[0] (sensors/{device}/telemetry): table: 'telemetry' exists with key schema "
            "id (S), the rule needs device (S), ts (N)");
}

TEST(IngestStart, RefusesBadOptions) {
  testing::TempDir dir;
  storage::Options so;
  so.path = dir.File("db");
  auto store = storage::Storage::Open(so);
  ASSERT_TRUE(store.ok());
  Options o = TestOptions("telemetry");
  o.mqtt.connections = 0;
  EXPECT_FALSE(Ingest::Start(store->get(), o).ok());
  o = TestOptions("telemetry");
  o.mqtt.uncommitted_max = 0;
  EXPECT_FALSE(Ingest::Start(store->get(), o).ok());
  o = TestOptions("telemetry");
  o.mqtt.broker = "nonsense://x";
  EXPECT_FALSE(Ingest::Start(store->get(), o).ok());
}

}  // namespace
}  // namespace edgetable::ingest
