// Writes the seed corpora of the fuzz targets under <dir> (tests/fuzz/corpus):
//   fuzz_seed_gen <dir>
// Text seeds are listed here as they are; FlatBuffers seeds are encoded by
// edge/wire and then damaged on purpose (truncated, bit-flipped, names out of
// order). Deterministic: running it twice writes the same files. The seeds
// are kept small; the fuzzers grow their own corpora from them.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/item/json.h"
#include "edge/item/value.h"
#include "edge/wire/item_codec.h"
#ifdef EDGETABLE_FUZZ_TELEMETRY
#include "edge/wire/telemetry_codec.h"
#endif

namespace {

namespace fs = std::filesystem;
using edgetable::item::Item;
using edgetable::item::Value;

fs::path g_root;
int g_written = 0;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
  ++g_written;
}

std::string Nested(int levels, std::string_view open, std::string_view leaf, std::string_view close) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += open;
  s += leaf;
  for (int i = 0; i < levels; ++i) s += close;
  return s;
}

Item ItemOf(std::string_view json_text) {
  auto j = edgetable::item::ParseJson(json_text);
  if (!j.ok()) {
    std::fprintf(stderr, "seed JSON: %s\n", j.status().message().c_str());
    std::exit(1);
  }
  auto item = edgetable::item::ItemFromJson(*j);
  if (!item.ok()) {
    std::fprintf(stderr, "seed item: %s\n", item.status().message().c_str());
    std::exit(1);
  }
  return *std::move(item);
}

// --- DynamoDB JSON items ------------------------------------------------------

const std::vector<std::pair<std::string, std::string>>& ItemJsonSeeds() {
  static const std::vector<std::pair<std::string, std::string>> seeds = [] {
    std::vector<std::pair<std::string, std::string>> s = {
        {"scalars", R"({"pk":{"S":"dev-1"},"ts":{"N":"1700000000123"},"raw":{"B":"AAECAw=="},)"
                    R"("on":{"BOOL":true},"gone":{"NULL":true}})"},
        {"containers", R"({"m":{"M":{"a":{"L":[{"N":"1"},{"S":"x"},{"M":{}}]},"b":{"L":[]}}}})"},
        {"sets", R"({"ss":{"SS":["b","a"]},"ns":{"NS":["10","-2.5","1E+3"]},"bs":{"BS":["AQ==","AA=="]}})"},
        {"set_duplicates", R"({"ss":{"SS":["a","a"]},"ns":{"NS":["1","1.0"]}})"},
        {"empty_sets", R"({"ss":{"SS":[]},"ns":{"NS":[]},"bs":{"BS":[]}})"},
        {"empty_item", "{}"},
        {"empty_strings", R"({"":{"S":""},"b":{"B":""}})"},
        {"unicode", "{\"n\\u00e4me\":{\"S\":\"\xe6\xb8\xa9\xe5\xba\xa6 \\ud83c\\udf21\"}}"},
        {"number_max", R"({"n":{"N":"9.9999999999999999999999999999999999999E+125"}})"},
        {"number_min", R"({"n":{"N":"-1E-130"}})"},
        {"number_too_big", R"({"n":{"N":"1E+126"}})"},
        {"number_too_small", R"({"n":{"N":"1E-131"}})"},
        {"number_39_digits", R"({"n":{"N":"123456789012345678901234567890123456789"}})"},
        {"number_zeros", R"({"n":{"N":"-000.000e-99999999999999999999"}})"},
        {"number_exponent_overflow", R"({"n":{"N":"1e99999999999999999999999"}})"},
        {"number_garbage", R"({"n":{"N":"1.2.3"},"m":{"N":" 1"},"o":{"N":"0x10"},"p":{"N":"NaN"}})"},
        {"number_not_string", R"({"n":{"N":12}})"},
        {"bad_base64", R"({"b":{"B":"A=B="}})"},
        {"bad_base64_length", R"({"b":{"B":"AAA"}})"},
        {"bad_base64_chars", R"({"b":{"BS":["AA==","*==="]}})"},
        {"two_types", R"({"a":{"S":"x","N":"1"}})"},
        {"empty_value", R"({"a":{}})"},
        {"unknown_type", R"({"a":{"X":"1"}})"},
        {"null_false", R"({"a":{"NULL":false}})"},
        {"not_object", R"([{"S":"x"}])"},
        {"duplicate_names", R"({"a":{"S":"1"},"a":{"N":"2"}})"},
        {"truncated", R"({"pk":{"S":"dev-1"},"m":{"M":{"a":{"L":[{"N":"1")"},
        {"bad_utf8", "{\"a\":{\"S\":\"\xff\xfe\"}}"},
        {"lone_surrogate", R"({"a":{"S":"\ud800"}})"},
        {"not_json", "pk=dev-1"},
        {"empty", ""},
    };
    // Depth: 32 levels of M/L are allowed, 33 are not; 2000 must not overflow the stack.
    s.emplace_back("depth_32_lists",
                   "{\"a\":" + Nested(31, "{\"L\":[", "{\"N\":\"1\"}", "]}") + "}");
    s.emplace_back("depth_33_lists",
                   "{\"a\":" + Nested(32, "{\"L\":[", "{\"N\":\"1\"}", "]}") + "}");
    s.emplace_back("depth_32_maps",
                   "{\"a\":" + Nested(31, "{\"M\":{\"k\":", "{\"S\":\"x\"}", "}}") + "}");
    s.emplace_back("depth_2000_arrays", Nested(2000, "[", "1", "]"));
    s.emplace_back("depth_2000_lists",
                   "{\"a\":" + Nested(2000, "{\"L\":[", "{\"N\":\"1\"}", "]}") + "}");
    s.emplace_back("long_number", "{\"n\":{\"N\":\"" + std::string(500, '7') + "\"}}");
    return s;
  }();
  return seeds;
}

void WriteItemJson() {
  for (const auto& [name, text] : ItemJsonSeeds()) Write("item_json", name + ".json", text);
}

// --- plain JSON payloads ------------------------------------------------------

void WritePlainJson() {
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"reading", R"({"device":"t-1","ts":1700000000123,"temp":21.5,"ok":true,"err":null})"},
      {"nested", R"({"gps":{"lat":52.52,"lon":13.405},"tags":["a","b",1,[2,{}]]})"},
      {"big_integer", R"({"n":123456789012345678901234567890})"},
      {"int64_edges", R"({"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615,"d":18446744073709551616})"},
      {"exact_fraction", R"({"x":0.1000000000000000055511151231257827})"},
      {"too_many_digits", R"({"x":1234567890123456789012345678901234567890})"},
      {"exponents", R"({"a":1e125,"b":1e126,"c":1e-130,"d":1e-131,"e":-0.0,"f":1E+0})"},
      {"huge_exponent", R"({"a":1e999999999999999999999})"},
      {"duplicate_key", R"({"a":1,"a":2})"},
      {"duplicate_nested_key", R"({"m":{"k":1,"k":2}})"},
      {"scalar_root", "42"},
      {"string_root", "\"hello\""},
      {"array_root", "[1,2,3]"},
      {"unicode", "{\"t\":\"\xc2\xb0\x43\",\"e\":\"\\u00b0C\"}"},
      {"bad_utf8", "{\"t\":\"\xc0\xaf\"}"},
      {"truncated", R"({"a":[1,2,{"b":)"},
      {"trailing_garbage", R"({"a":1} x)"},
      {"comment", "{\"a\":1 /* c */}"},
      {"nan", R"({"a":NaN})"},
      {"empty", ""},
      {"whitespace", " \t\r\n"},
  };
  for (const auto& [name, text] : seeds) Write("plain_json", name + ".json", text);
  // The root is level 0: 33 nested levels are allowed, 34 are not.
  Write("plain_json", "depth_33.json", Nested(33, "{\"a\":", "1", "}"));
  Write("plain_json", "depth_34.json", Nested(34, "{\"a\":", "1", "}"));
  Write("plain_json", "depth_5000.json", Nested(5000, "[", "", "]"));
}

// --- FlatBuffers items --------------------------------------------------------

std::string FlipBit(std::string bytes, size_t bit) {
  if (bytes.empty()) return bytes;
  bit %= bytes.size() * 8;
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  return bytes;
}

void WriteItemWire() {
  const std::vector<std::pair<std::string, std::string>> items = {
      {"scalars", R"({"pk":{"S":"dev-1"},"ts":{"N":"1700000000123"},"raw":{"B":"AAECAw=="},)"
                  R"("on":{"BOOL":true},"gone":{"NULL":true}})"},
      {"containers", R"({"m":{"M":{"a":{"L":[{"N":"-1.5"},{"S":"x"},{"M":{}}]},"b":{"L":[]}}}})"},
      {"sets", R"({"ss":{"SS":["b","a"]},"ns":{"NS":["10","-2.5","1E+3"]},"bs":{"BS":["AQ==","AA=="]}})"},
      {"numbers", R"({"a":{"N":"0"},"b":{"N":"9.9999999999999999999999999999999999999E+125"},)"
                  R"("c":{"N":"-1E-130"}})"},
      {"empty_item", "{}"},
  };
  std::vector<std::string> encoded;
  for (const auto& [name, text] : items) {
    std::string bytes = edgetable::wire::EncodeItem(ItemOf(text));
    Write("item_wire", "valid_" + name + ".fb", bytes);
    encoded.push_back(std::move(bytes));
  }
  std::string deep_text = "{\"a\":" + Nested(31, "{\"L\":[", "{\"N\":\"1\"}", "]}") + "}";
  Write("item_wire", "valid_depth_32.fb", edgetable::wire::EncodeItem(ItemOf(deep_text)));
  // EncodeItem writes deeper items too; DecodeItem must refuse them.
  Item too_deep = ItemOf(deep_text);
  Value* v = &too_deep.begin()->second;
  while (!v->l().empty() && v->l().front().is(edgetable::item::Type::kL)) v = &v->l().front();
  v->l().front() = Value::L({Value::N(edgetable::item::Number::FromInt(2))});
  Write("item_wire", "invalid_depth_33.fb", edgetable::wire::EncodeItem(too_deep));

  // Damaged copies of the first two buffers.
  for (size_t i = 0; i < 2; ++i) {
    const std::string& bytes = encoded[i];
    const std::string base = "damaged_" + items[i].first;
    for (size_t cut : {size_t{0}, size_t{3}, size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
      Write("item_wire", base + "_truncated_" + std::to_string(cut) + ".fb", bytes.substr(0, cut));
    }
    for (size_t bit : {size_t{3}, size_t{37}, size_t{70}, size_t{131}, size_t{200}, size_t{333}}) {
      Write("item_wire", base + "_flip_" + std::to_string(bit) + ".fb", FlipBit(bytes, bit));
    }
    Write("item_wire", base + "_padded.fb", bytes + std::string(13, '\0'));
  }
  // Names out of order: swap the one-byte names "a" and "b" in the buffer.
  std::string unsorted = edgetable::wire::EncodeItem(ItemOf(R"({"a":{"S":"1"},"b":{"S":"2"}})"));
  for (size_t i = 0; i + 2 < unsorted.size(); ++i) {
    // A FlatBuffers string: 4-byte length 1, the byte, a terminating 0.
    if (i >= 4 && unsorted[i - 4] == 1 && unsorted[i + 1] == 0 && (unsorted[i] == 'a' || unsorted[i] == 'b')) {
      unsorted[i] = unsorted[i] == 'a' ? 'b' : 'a';
    }
  }
  Write("item_wire", "invalid_unsorted_names.fb", unsorted);
  Write("item_wire", "invalid_wrong_identifier.fb", std::string("\x08\0\0\0XXXX\0\0\0\0", 12));
  Write("item_wire", "invalid_empty.fb", "");
  Write("item_wire", "invalid_text.fb", R"({"a":{"S":"1"}})");
}

// --- expressions --------------------------------------------------------------

void WriteExpr() {
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"cond_compare", "#a = :v AND b <> :s"},
      {"cond_functions", "attribute_exists(m.x.y) AND begins_with(b, :s) OR contains(ss, :s)"},
      {"cond_between_in", "a BETWEEN :v AND :big OR a IN (:v, :tiny, :big)"},
      {"cond_not_nested", "NOT (attribute_type(#a, :type) AND size(c) > :v)"},
      {"cond_paths", "c[2].d[0] < :v AND #d = :s AND m.#m.e <> :z"},
      {"cond_bad_between", "a BETWEEN :big AND :v"},
      {"cond_reserved", "status = :s"},
      {"cond_undefined", "#nope = :nope"},
      {"cond_same_path", "a = a"},
      {"cond_doubled_parens", "((a = :v))"},
      {"cond_deep_parens", std::string(130, '(') + "a = :v" + std::string(130, ')')},
      {"cond_syntax", "a = = :v"},
      {"update_set", "SET a = a + :v, b = if_not_exists(b, :s), c = list_append(c, :l)"},
      {"update_all", "SET #a = :v REMOVE b, c[1] ADD ns :ns, big :v DELETE ss :ss"},
      {"update_overflow", "SET big = big + :big"},
      {"update_nested", "SET m.x.z = :m, c[3] = :l, c[99] = :v"},
      {"update_bad_parent", "SET nope.x = :v"},
      {"update_overlap", "SET a = :v REMOVE a"},
      {"update_minus", "SET a = :tiny - big"},
      {"update_twice", "SET a = :v SET b = :v"},
      {"projection", "pk, sk, m.x.y, c[0], #d"},
      {"projection_overlap", "m, m.x"},
      {"projection_big_index", "c[4294967295], c[99999999999999999999]"},
      {"key_eq", "pk = :s"},
      {"key_sort", "#k = :s AND #s BETWEEN :v AND :big"},
      {"key_begins", "a = :v AND begins_with(b, :s)"},
      {"key_binary", "bk = :b"},
      {"key_empty", "pk = :e"},
      {"key_wrong", "pk > :s OR sk = :v"},
      {"deep_path", "a" + std::string(40, '.') + "b"},
      {"deep_path_names", [] {
         std::string p = "m";
         for (int i = 0; i < 40; ++i) p += ".x";
         return p + " = :v";
       }()},
      {"unterminated", "begins_with(b, "},
      {"empty", ""},
      {"nul_byte", std::string("a = :v\0b", 8)},
  };
  for (const auto& [name, text] : seeds) Write("expr", name + ".txt", text);
  Write("expr", "too_long.txt", "a = :v" + std::string(4100, ' '));
}

// --- HTTP requests ------------------------------------------------------------

// Control bytes (http_request_fuzz.cc): byte 0 picks the limits, byte 1 the
// reads; "\x00\xc0" is production limits and large reads, "\x00\x00" one
// byte at a time. Requests with an Upgrade header are in crashes/http_request
// until the parser treats them the same for every split.
void WriteHttp() {
  const std::string post =
      "POST / HTTP/1.1\r\nHost: localhost:8000\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"
      "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 14\r\n\r\n{\"TableName\":1}";
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"post_whole", std::string("\x00\xc0", 2) + post},
      {"post_bytewise", std::string("\x00\x00", 2) + post},
      {"post_small_reads", std::string("\x00\x45", 2) + post},
      {"get_query", std::string("\x00\x80", 2) + "GET /metrics?x=1#frag HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"absolute_form", std::string("\x00\x80", 2) + "GET http://h:1/p/q?r=s HTTP/1.1\r\n\r\n"},
      {"pipelined", std::string("\x00\x41", 2) + "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n" + post},
      {"chunked", std::string("\x00\x42", 2) +
                      "POST /sync/push HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"},
      {"expect_continue", std::string("\x00\x80", 2) +
                              "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"},
      {"http10_close", std::string("\x00\x80", 2) + "GET / HTTP/1.0\r\n\r\n"},
      {"connection_close", std::string("\x00\x80", 2) + "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"},
      {"obs_fold", std::string("\x00\x80", 2) + "GET / HTTP/1.1\r\nX-A: one\r\n  two\r\n\r\n"},
      {"header_limit", std::string("\x01\x80", 2) + "GET / HTTP/1.1\r\nX-Long: " + std::string(600, 'a') + "\r\n\r\n"},
      {"body_limit", std::string("\x04\x80", 2) + "POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n" + std::string(50, 'b')},
      {"body_limit_chunked", std::string("\x08\x10", 2) +
                                 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"},
      {"huge_content_length", std::string("\x00\x80", 2) +
                                  "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"},
      {"two_content_lengths", std::string("\x00\x80", 2) +
                                  "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
      {"cl_and_chunked", std::string("\x00\x80", 2) +
                             "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"http2_preface", std::string("\x00\x80", 2) + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
      {"http_version_2", std::string("\x00\x80", 2) + "GET / HTTP/2.1\r\n\r\n"},
      {"connect", std::string("\x00\x80", 2) + "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"},
      {"asterisk_target", std::string("\x00\x80", 2) + "OPTIONS * HTTP/1.1\r\n\r\n"},
      {"bad_method", std::string("\x00\x80", 2) + "GOT / HTTP/1.1\r\n\r\n"},
      {"bare_lf", std::string("\x00\x80", 2) + "GET / HTTP/1.1\nHost: a\n\n"},
      {"nul_in_header", std::string("\x00\x80", 2) + std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26)},
      {"truncated_headers", std::string("\x00\x80", 2) + "POST / HTTP/1.1\r\nContent-Len"},
      {"truncated_body", std::string("\x00\x80", 2) + "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"},
      {"garbage", std::string("\x00\x80", 2) + "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"},
  };
  for (const auto& [name, text] : seeds) Write("http_request", name + ".http", text);
}

// --- telemetry frames ---------------------------------------------------------

#ifdef EDGETABLE_FUZZ_TELEMETRY
void WriteTelemetry() {
  using edgetable::item::Number;
  edgetable::wire::TelemetryFrame frame;
  frame.device = "gw-17/sensor-3";
  edgetable::wire::TelemetryReading r1;
  r1.ts_ms = 1700000000123;
  r1.fields.emplace_back("temp", Value::N(*Number::Parse("21.5")));
  r1.fields.emplace_back("count", Value::N(Number::FromInt(-42)));
  r1.fields.emplace_back("unit", Value::S("C"));
  edgetable::wire::TelemetryReading r2;
  r2.ts_ms = -1;
  r2.fields.emplace_back("big", Value::N(Number::FromInt(INT64_MIN)));
  r2.fields.emplace_back("tiny", Value::N(*Number::Parse("1E-130")));
  r2.fields.emplace_back("huge", Value::N(*Number::Parse("9.9999999999999999999999999999999999999E+125")));
  frame.readings = {r1, r2};
  const std::string bytes = edgetable::wire::EncodeTelemetryFrame(frame);
  Write("telemetry_wire", "valid_two_readings.fb", bytes);

  edgetable::wire::TelemetryFrame empty;
  empty.device = "d";
  Write("telemetry_wire", "valid_no_readings.fb", edgetable::wire::EncodeTelemetryFrame(empty));
  edgetable::wire::TelemetryFrame no_fields;
  no_fields.device = "";
  no_fields.readings.resize(3);
  Write("telemetry_wire", "valid_empty_readings.fb", edgetable::wire::EncodeTelemetryFrame(no_fields));

  for (size_t cut : {size_t{0}, size_t{4}, size_t{8}, bytes.size() / 2, bytes.size() - 1}) {
    Write("telemetry_wire", "damaged_truncated_" + std::to_string(cut) + ".fb", bytes.substr(0, cut));
  }
  for (size_t bit : {size_t{5}, size_t{40}, size_t{64}, size_t{100}, size_t{250}, size_t{401}, size_t{777}}) {
    Write("telemetry_wire", "damaged_flip_" + std::to_string(bit) + ".fb", FlipBit(bytes, bit));
  }
  // An item buffer is not a telemetry frame (wrong file identifier).
  Write("telemetry_wire", "invalid_item_buffer.fb",
        edgetable::wire::EncodeItem(ItemOf(R"({"a":{"S":"1"}})")));
  Write("telemetry_wire", "invalid_identifier_only.fb", std::string("\x08\0\0\0ETT1", 8));
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/fuzz/corpus>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  WriteItemJson();
  WritePlainJson();
  WriteItemWire();
  WriteExpr();
  WriteHttp();
#ifdef EDGETABLE_FUZZ_TELEMETRY
  WriteTelemetry();
#endif
  std::printf("wrote %d seed files under %s\n", g_written, g_root.c_str());
  return 0;
}
