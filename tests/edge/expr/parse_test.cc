// Grammar and parse-time errors of every expression kind, and the request-
// level placeholder checks. Expected messages are DynamoDB's (checked against
// DynamoDB Local where the documentation is silent).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edge/expr/expr.h"
#include "edge/expr/internal/lexer.h"
#include "edge/expr/internal/reserved_words.h"
#include "tests/edge/expr/test_util.h"

namespace edgetable::expr {
namespace {

using testing::Show;
using testing::ValuesOf;

constexpr std::string_view kValues = R"({
  ":1": {"N": "1"}, ":2": {"N": "2"}, ":3": {"N": "3"}, ":5": {"N": "5"},
  ":s": {"S": "x"}, ":a": {"S": "a"}, ":b": {"S": "b"}, ":bin": {"B": "AQI="},
  ":t": {"S": "L"}, ":bad": {"S": "X"}, ":l": {"L": [{"N": "1"}]},
  ":ss": {"SS": ["x"]}, ":ns": {"NS": ["1"]}, ":m": {"M": {}}, ":bool": {"BOOL": true}
})";

ExpressionContext Ctx() {
  return ExpressionContext({{"#n", "name"}, {"#s", "status"}, {"#a", "a"}}, ValuesOf(kValues));
}

std::string ParseShow(std::string_view text) {
  ExpressionContext ctx = Ctx();
  Result<Condition> c = ParseCondition(text, ExprKind::kCondition, ctx);
  if (!c.ok()) return "ERROR " + c.status().message();
  return Show(*c);
}

std::string ConditionError(std::string_view text, ExprKind kind = ExprKind::kCondition) {
  ExpressionContext ctx = Ctx();
  Result<Condition> c = ParseCondition(text, kind, ctx);
  if (c.ok()) return "OK " + Show(*c);
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  return c.status().message();
}

std::string UpdateError(std::string_view text) {
  ExpressionContext ctx = Ctx();
  Result<UpdateExpression> u = ParseUpdate(text, ctx);
  if (u.ok()) return "OK";
  EXPECT_EQ(u.status().code(), Status::Code::kInvalidArgument);
  return u.status().message();
}

std::string ProjectionError(std::string_view text) {
  ExpressionContext ctx = Ctx();
  Result<Projection> p = ParseProjection(text, ctx);
  if (p.ok()) return "OK";
  EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
  return p.status().message();
}

struct Case {
  std::string_view text;
  std::string_view want;
};

// --- Lexer and reserved words ----------------------------------------------

TEST(LexerTest, SplitsEveryTokenKind) {
  using internal::TokenKind;
  std::vector<internal::Token> t =
      internal::Tokenize("a_1 #n :v 12 ( ) [ ] , . = <> < <= > >= + - $");
  std::vector<TokenKind> kinds;
  for (const auto& x : t) kinds.push_back(x.kind);
  std::vector<TokenKind> want = {TokenKind::kName,
                                 TokenKind::kNamePlaceholder,
                                 TokenKind::kValuePlaceholder,
                                 TokenKind::kNumber,
                                 TokenKind::kLParen,
                                 TokenKind::kRParen,
                                 TokenKind::kLBracket,
                                 TokenKind::kRBracket,
                                 TokenKind::kComma,
                                 TokenKind::kDot,
                                 TokenKind::kEq,
                                 TokenKind::kNe,
                                 TokenKind::kLt,
                                 TokenKind::kLe,
                                 TokenKind::kGt,
                                 TokenKind::kGe,
                                 TokenKind::kPlus,
                                 TokenKind::kMinus,
                                 TokenKind::kInvalid,
                                 TokenKind::kEnd};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(t[1].text, "#n");
  EXPECT_EQ(t.back().text, "<EOF>");
}

TEST(LexerTest, LonePlaceholderMarkIsInvalid) {
  std::vector<internal::Token> t = internal::Tokenize("# :");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, internal::TokenKind::kInvalid);
  EXPECT_EQ(t[1].kind, internal::TokenKind::kInvalid);
}

TEST(ReservedWordsTest, CaseInsensitiveWholeList) {
  for (std::string_view w : {"ABORT", "abort", "Status", "zone", "ZONE", "size", "Name", "ttl",
                             "FLATTERN", "INNTER", "LOGED", "VALUE", "data", "timestamp", "year"}) {
    EXPECT_TRUE(internal::IsReservedWord(w)) << w;
  }
  for (std::string_view w : {"", "a", "device", "ts", "temperature", "attribute_exists", "ABORTS",
                             "Z", "zones", "humidity"}) {
    EXPECT_FALSE(internal::IsReservedWord(w)) << w;
  }
}

// --- Condition grammar -----------------------------------------------------

TEST(ConditionGrammarTest, EveryConstruct) {
  const Case cases[] = {
      {"a = :1", R"((= a {"N":"1"}))"},
      {"a <> :1", R"((<> a {"N":"1"}))"},
      {"a < :1", R"((< a {"N":"1"}))"},
      {"a <= :1", R"((<= a {"N":"1"}))"},
      {"a > :1", R"((> a {"N":"1"}))"},
      {"a >= :1", R"((>= a {"N":"1"}))"},
      {":1 = a", R"((= {"N":"1"} a))"},
      {"a = b", "(= a b)"},
      {"a.b.c = :1", R"((= a.b.c {"N":"1"}))"},
      {"a[0][2] = :1", R"((= a[0][2] {"N":"1"}))"},
      {"a.b[3].c = :1", R"((= a.b[3].c {"N":"1"}))"},
      {"#n = :1", R"((= name {"N":"1"}))"},
      {"#n.#s[1] = :1", R"((= name.status[1] {"N":"1"}))"},
      {"a BETWEEN :1 AND :2", R"((BETWEEN a {"N":"1"} {"N":"2"}))"},
      {"a IN (:1)", R"((IN a {"N":"1"}))"},
      {"a IN (:1, :2, b)", R"((IN a {"N":"1"} {"N":"2"} b))"},
      {"attribute_exists(a)", "(attribute_exists a)"},
      {"attribute_not_exists(a.b)", "(attribute_not_exists a.b)"},
      {"attribute_type(a, :t)", R"((attribute_type a {"S":"L"}))"},
      {"begins_with(a, :s)", R"((begins_with a {"S":"x"}))"},
      {"contains(a, :s)", R"((contains a {"S":"x"}))"},
      {"contains(a, b)", "(contains a b)"},
      {"size(a) > :1", R"((> size(a) {"N":"1"}))"},
      {":1 < size(a.b)", R"((< {"N":"1"} size(a.b)))"},
      {"a = :1 AND b = :2", R"((AND (= a {"N":"1"}) (= b {"N":"2"})))"},
      {"a = :1 OR b = :2", R"((OR (= a {"N":"1"}) (= b {"N":"2"})))"},
      {"NOT a = :1", R"((NOT (= a {"N":"1"})))"},
      {"(a = :1)", R"((= a {"N":"1"}))"},
      {"a=:1", R"((= a {"N":"1"}))"},
      {"  a\t=\n:1  ", R"((= a {"N":"1"}))"},
      {"a = :1 and b = :2 or not c = :3",
       R"((OR (AND (= a {"N":"1"}) (= b {"N":"2"})) (NOT (= c {"N":"3"}))))"},
      {"_x1 = :1", R"((= _x1 {"N":"1"}))"},
      {"size(:s) = :1", R"((= size({"S":"x"}) {"N":"1"}))"},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseShow(c.text), c.want) << c.text;
}

TEST(ConditionGrammarTest, Precedence) {
  const Case cases[] = {
      // AND binds tighter than OR, on either side.
      {"a = :1 OR b = :2 AND c = :3",
       R"((OR (= a {"N":"1"}) (AND (= b {"N":"2"}) (= c {"N":"3"}))))"},
      {"a = :1 AND b = :2 OR c = :3",
       R"((OR (AND (= a {"N":"1"}) (= b {"N":"2"})) (= c {"N":"3"})))"},
      // Parentheses override.
      {"(a = :1 OR b = :2) AND c = :3",
       R"((AND (OR (= a {"N":"1"}) (= b {"N":"2"})) (= c {"N":"3"})))"},
      // NOT binds tighter than AND and OR.
      {"NOT a = :1 AND b = :2", R"((AND (NOT (= a {"N":"1"})) (= b {"N":"2"})))"},
      {"NOT a = :1 OR b = :2", R"((OR (NOT (= a {"N":"1"})) (= b {"N":"2"})))"},
      {"NOT (a = :1 OR b = :2)", R"((NOT (OR (= a {"N":"1"}) (= b {"N":"2"}))))"},
      {"NOT NOT a = :1", R"((NOT (NOT (= a {"N":"1"}))))"},
      {"NOT attribute_exists(a)", "(NOT (attribute_exists a))"},
      // Left to right.
      {"a = :1 OR b = :2 OR c = :3",
       R"((OR (OR (= a {"N":"1"}) (= b {"N":"2"})) (= c {"N":"3"})))"},
      {"a = :1 AND b = :2 AND c = :3",
       R"((AND (AND (= a {"N":"1"}) (= b {"N":"2"})) (= c {"N":"3"})))"},
      // BETWEEN's AND belongs to BETWEEN.
      {"a BETWEEN :1 AND :2 AND b = :3",
       R"((AND (BETWEEN a {"N":"1"} {"N":"2"}) (= b {"N":"3"})))"},
      {"a = :1 OR b BETWEEN :1 AND :2", R"((OR (= a {"N":"1"}) (BETWEEN b {"N":"1"} {"N":"2"})))"},
      {"a IN (:1, :2) AND begins_with(b, :s) OR contains(c, :s)",
       R"((OR (AND (IN a {"N":"1"} {"N":"2"}) (begins_with b {"S":"x"})) (contains c {"S":"x"})))"},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseShow(c.text), c.want) << c.text;
}

TEST(ConditionGrammarTest, KeywordsAreCaseInsensitiveFunctionsAreNot) {
  EXPECT_EQ(ParseShow("a between :1 and :2"), R"((BETWEEN a {"N":"1"} {"N":"2"}))");
  EXPECT_EQ(ParseShow("a In (:1)"), R"((IN a {"N":"1"}))");
  EXPECT_EQ(ConditionError("ATTRIBUTE_EXISTS(a)"),
            "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS");
}

TEST(ConditionGrammarTest, InTakesUpTo100Values) {
  std::string ok = "a IN (:1";
  for (int i = 1; i < 100; ++i) ok += ", :1";
  EXPECT_EQ(ParseShow(ok + ")").substr(0, 5), "(IN a");
  EXPECT_EQ(ConditionError(ok + ", :2)"),
            "Invalid ConditionExpression: The IN operator is provided with too many operands; "
            "number of operands: 101");
}

TEST(ConditionGrammarTest, SyntaxErrors) {
  const Case cases[] = {
      {"a = = :1", R"(Invalid ConditionExpression: Syntax error; token: "=", near: "= = :1")"},
      {"a = :1 AND", R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND")"},
      {"user-id = :1", R"(Invalid ConditionExpression: Syntax error; token: "-", near: "user-id")"},
      {"a $ :1", R"(Invalid ConditionExpression: Syntax error; token: "$", near: "a $ :1")"},
      {"1 = :1", R"(Invalid ConditionExpression: Syntax error; token: "1", near: "1 =")"},
      {"a IN :1", R"(Invalid ConditionExpression: Syntax error; token: ":1", near: "IN :1")"},
      {"a = :1 AND and = :1",
       R"(Invalid ConditionExpression: Syntax error; token: "and", near: "AND and =")"},
      {"a", R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "a")"},
      {"(a = :1", R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":1")"},
      {"a = :1)", R"x(Invalid ConditionExpression: Syntax error; token: ")", near: ":1)")x"},
      {"a BETWEEN :1 OR :2",
       R"(Invalid ConditionExpression: Syntax error; token: "OR", near: ":1 OR :2")"},
      {"a[x] = :1", R"(Invalid ConditionExpression: Syntax error; token: "x", near: "[x]")"},
      {"a. = :1", R"(Invalid ConditionExpression: Syntax error; token: "=", near: ". = :1")"},
      {"a = :1 b = :2", R"(Invalid ConditionExpression: Syntax error; token: "b", near: ":1 b =")"},
      {"a = #", R"(Invalid ConditionExpression: Syntax error; token: "#", near: "= #")"},
      {"a = :1,", R"(Invalid ConditionExpression: Syntax error; token: ",", near: ":1,")"},
  };
  for (const Case& c : cases) EXPECT_EQ(ConditionError(c.text), c.want) << c.text;
}

TEST(ConditionGrammarTest, FilterExpressionNamesItself) {
  EXPECT_EQ(ConditionError("a = = :1", ExprKind::kFilter),
            R"(Invalid FilterExpression: Syntax error; token: "=", near: "= = :1")");
}

TEST(ConditionGrammarTest, SemanticErrors) {
  const Case cases[] = {
      {"", "Invalid ConditionExpression: The expression can not be empty;"},
      {"   ", R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "   ")"},
      {"status = :1",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
       "status"},
      {"Size.a = :1",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"},
      {"a.b.status = :1",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
       "status"},
      {"data[0] = :1",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data"},
      {"size(:1) = :1",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: size, operand type: N"},
      {"size(:bool) = :1",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: size, operand type: BOOL"},
      {"a = :nope",
       "Invalid ConditionExpression: An expression attribute value used in expression is not "
       "defined; attribute value: :nope"},
      {"#nope = :1",
       "Invalid ConditionExpression: An expression attribute name used in the document path is "
       "not defined; attribute name: #nope"},
      {"size(a)",
       "Invalid ConditionExpression: The function is not allowed to be used this way in an "
       "expression; function: size"},
      {"attribute_exists(a) = :1",
       "Invalid ConditionExpression: The function is not allowed to be used this way in an "
       "expression; function: attribute_exists"},
      {"foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo"},
      {"begins_with(a)",
       "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
       "operator or function: begins_with, number of operands: 1"},
      {"attribute_exists(a, b)",
       "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
       "operator or function: attribute_exists, number of operands: 2"},
      {"size(a, b) = :1",
       "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
       "operator or function: size, number of operands: 2"},
      {"attribute_exists(:1)",
       "Invalid ConditionExpression: Operator or function requires a document path; operator or "
       "function: attribute_exists"},
      {"size(size(a)) = :1",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: size, operand type: N"},
      {"size(attribute_exists(a)) = :1",
       "Invalid ConditionExpression: The function is not allowed to be used this way in an "
       "expression; function: attribute_exists"},
      {"if_not_exists(a, :1) = :1",
       "Invalid ConditionExpression: The function is not allowed in a condition expression; "
       "function: if_not_exists"},
      {"list_append(a, :l) = :l",
       "Invalid ConditionExpression: The function is not allowed in a condition expression; "
       "function: list_append"},
      {"begins_with(a, :1)",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: begins_with, operand type: N"},
      {"attribute_type(a, :bad)",
       "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: "
       "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}"},
      {"attribute_type(a, :1)",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: attribute_type, operand type: N"},
      {"a BETWEEN :5 AND :1",
       "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than "
       "or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: "
       "AttributeValue: {N:1}"},
      {"a BETWEEN :b AND :a",
       "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than "
       "or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: "
       "AttributeValue: {S:a}"},
      {"a BETWEEN :1 AND :s",
       "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and "
       "upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
       "AttributeValue: {S:x}"},
      {"contains(a, a)",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: contains, first operand: [a]"},
      {"begins_with(a, a)",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: begins_with, first operand: [a]"},
      {"attribute_type(a.b, a.b)",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: attribute_type, first operand: [a, b]"},
      {"a < :bool",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: <, operand type: BOOL"},
      {":m >= a",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: >=, operand type: M"},
      {"a <= :ss",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: <=, operand type: SS"},
      {"a BETWEEN :bool AND :bool",
       "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or "
       "function: BETWEEN, operand type: BOOL"},
      {"a = a",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: =, first operand: [a]"},
      {"a.b[1] <> a.b[1]",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: <>, first operand: [a, b, [1]]"},
      {"a BETWEEN :1 AND a",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: BETWEEN, first operand: [a]"},
      {"a IN (:1, a)",
       "Invalid ConditionExpression: The first operand must be distinct from the remaining "
       "operands for this operator or function; operator: IN, first operand: [a]"},
      {"a[99999999999] = :1",
       "Invalid ConditionExpression: List index is not within the allowable range; index: "
       "[99999999999]"},
  };
  for (const Case& c : cases) EXPECT_EQ(ConditionError(c.text), c.want) << c.text;
}

// DynamoDB checks the syntax of the whole expression before the meaning of
// its names and placeholders; among meaning errors the first one wins.
TEST(ConditionGrammarTest, SyntaxBeforeMeaning) {
  const Case cases[] = {
      {"status = :nope AND",
       R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND")"},
      {"#nope = :1 AND a = = :1",
       R"(Invalid ConditionExpression: Syntax error; token: "=", near: "= = :1")"},
      {"status = :nope",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
       "status"},
      {"a = :nope AND status = :1",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
       "status"},
      {"status = :1 AND size(a)",
       "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
       "status"},
      {"begins_with(a, :nope)",
       "Invalid ConditionExpression: An expression attribute value used in expression is not "
       "defined; attribute value: :nope"},
  };
  for (const Case& c : cases) EXPECT_EQ(ConditionError(c.text), c.want) << c.text;
  EXPECT_EQ(UpdateError("ADD a :nope"),
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :nope");
}

TEST(ConditionGrammarTest, EqualBetweenBoundsAndConstantComparisonsAreAccepted) {
  EXPECT_EQ(ParseShow("a BETWEEN :1 AND :1"), R"((BETWEEN a {"N":"1"} {"N":"1"}))");
  EXPECT_EQ(ParseShow(":1 = :1"), R"((= {"N":"1"} {"N":"1"}))");
}

TEST(ConditionGrammarTest, PathNestingLimit) {
  std::string ok = "a";
  for (int i = 1; i < 32; ++i) ok += ".a";
  EXPECT_EQ(ConditionError(ok + " = :1").substr(0, 2), "OK");
  EXPECT_EQ(ConditionError(ok + ".a = :1"),
            "Invalid ConditionExpression: The document path has too many nesting levels; nesting "
            "levels: 33");
}

TEST(ConditionGrammarTest, ExpressionSizeLimit) {
  std::string text = "a = :1";
  while (text.size() <= 4096) text += " AND a = :1";
  EXPECT_EQ(ConditionError(text),
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
            "expression size: " +
                std::to_string(text.size()));
}

TEST(ConditionGrammarTest, RedundantParentheses) {
  EXPECT_EQ(ConditionError("((a = :1))"),
            "Invalid ConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(ConditionError("a = :1 AND ((b = :1) OR c = :1)").substr(0, 2), "OK");
  EXPECT_EQ(ConditionError("((a = :1) AND (b = :1))").substr(0, 2), "OK");
  EXPECT_EQ(UpdateError("SET a = ((a))"),
            "Invalid UpdateExpression: The expression has redundant parentheses;");
  EXPECT_EQ(UpdateError("SET a = (a + :1) + :1"),
            R"(Invalid UpdateExpression: Syntax error; token: "+", near: ") + :1")");
}

TEST(ConditionGrammarTest, DeepNestingIsAnErrorNotACrash) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "(NOT ";
  text += "a = :1";
  text += std::string(300, ')');
  EXPECT_EQ(ConditionError(text),
            "Invalid ConditionExpression: The expression has too many nested levels");
  // A NOT chain is not nesting that costs stack; DynamoDB accepts long ones.
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  ExpressionContext ctx = Ctx();
  Result<Condition> c = ParseCondition(nots + "a = :1", ExprKind::kCondition, ctx);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(EvaluateCondition(*c, testing::ItemOf(R"({"a": {"N": "1"}})")));
}

// --- Placeholders across a request -------------------------------------------

TEST(ExpressionContextTest, AllUsedAcrossExpressions) {
  ExpressionContext ctx({{"#n", "name"}, {"#x", "x"}},
                        ValuesOf(R"({":v": {"N": "1"}, ":w": {"N": "2"}})"));
  ASSERT_TRUE(ParseCondition("#n = :v", ExprKind::kCondition, ctx).ok());
  EXPECT_EQ(ctx.CheckAllUsed().message(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}");
  ASSERT_TRUE(ParseUpdate("SET #x = :w", ctx).ok());
  EXPECT_TRUE(ctx.CheckAllUsed().ok());
}

TEST(ExpressionContextTest, UnusedKeysListedSorted) {
  ExpressionContext ctx({}, ValuesOf(R"({":v": {"N": "1"}, ":u": {"N": "2"}, ":t": {"N": "2"}})"));
  ASSERT_TRUE(ParseCondition("a = :v", ExprKind::kCondition, ctx).ok());
  Status s = ctx.CheckAllUsed();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:t, :u}");
}

TEST(ExpressionContextTest, NamesCheckedBeforeValues) {
  ExpressionContext ctx({{"#q", "x"}, {"#p", "y"}}, ValuesOf(R"({":u": {"N": "2"}})"));
  EXPECT_EQ(ctx.CheckAllUsed().message(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#p, #q}");
}

TEST(ExpressionContextTest, CreateChecksTheMaps) {
  NameMap names{{"#n", "a"}};
  ValueMap values = ValuesOf(R"({":v": {"N": "1"}})");
  NameMap no_names;
  ValueMap no_values;
  EXPECT_TRUE(ExpressionContext::Create(&names, &values, true).ok());
  EXPECT_TRUE(ExpressionContext::Create(nullptr, nullptr, false).ok());
  EXPECT_TRUE(ExpressionContext::Create(nullptr, nullptr, true).ok());
  auto message = [](Result<ExpressionContext> r) { return r.ok() ? "OK" : r.status().message(); };
  EXPECT_EQ(message(ExpressionContext::Create(&no_names, &values, true)),
            "ExpressionAttributeNames must not be empty");
  EXPECT_EQ(message(ExpressionContext::Create(&names, &no_values, true)),
            "ExpressionAttributeValues must not be empty");
  EXPECT_EQ(message(ExpressionContext::Create(&names, nullptr, false)),
            "ExpressionAttributeNames can only be specified when using expressions");
  EXPECT_EQ(message(ExpressionContext::Create(nullptr, &values, false)),
            "ExpressionAttributeValues can only be specified when using expressions");
  NameMap bad_names{{"#n", "a"}, {"x", "b"}};
  EXPECT_EQ(message(ExpressionContext::Create(&bad_names, nullptr, true)),
            R"(ExpressionAttributeNames contains invalid key: Syntax error; key: "x")");
  NameMap empty_name{{"#n", ""}};
  EXPECT_EQ(message(ExpressionContext::Create(&empty_name, nullptr, true)),
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n");
  for (std::string_view key : {"v", ":v-1", ":", "#v"}) {
    ValueMap bad = ValuesOf(R"({":v": {"N": "1"}})");
    bad.emplace(std::string(key), item::Value::Null());
    EXPECT_EQ(message(ExpressionContext::Create(nullptr, &bad, true)),
              "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" +
                  std::string(key) + "\"")
        << key;
  }
}

TEST(ExpressionContextTest, EmptyContextIsFine) {
  ExpressionContext ctx;
  ASSERT_TRUE(ParseProjection("a, b", ctx).ok());
  EXPECT_TRUE(ctx.CheckAllUsed().ok());
}

TEST(ExpressionContextTest, ReservedWordThroughPlaceholder) {
  ExpressionContext ctx({{"#s", "status"}}, ValuesOf(R"({":v": {"S": "on"}})"));
  Result<Condition> c = ParseCondition("#s = :v", ExprKind::kCondition, ctx);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Show(*c), R"((= status {"S":"on"}))");
  EXPECT_TRUE(ctx.CheckAllUsed().ok());
}

TEST(ExpressionContextTest, UndefinedInEachKind) {
  ExpressionContext ctx;
  EXPECT_EQ(ParseUpdate("SET a = :v", ctx).status().message(),
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :v");
  EXPECT_EQ(ParseProjection("#p", ctx).status().message(),
            "Invalid ProjectionExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #p");
  item::KeySchema schema{{"device", item::Type::kS}, std::nullopt};
  EXPECT_EQ(ParseKeyCondition("device = :d", schema, ctx).status().message(),
            "Invalid KeyConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :d");
}

// --- UpdateExpression grammar ----------------------------------------------

TEST(UpdateGrammarTest, ClausesAndActions) {
  ExpressionContext ctx = Ctx();
  Result<UpdateExpression> u = ParseUpdate(
      "SET a = :1, b.c[2] = b.c[1] + :2, d = if_not_exists(d, :1) - :1, "
      "e = list_append(e, :l), f = (f + :1) "
      "REMOVE g, h[3] ADD i :1, j :ss DELETE k :ss",
      ctx);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  std::vector<std::string> got;
  for (const UpdateAction& a : u->actions) {
    static const char* kNames[] = {"SET", "REMOVE", "ADD", "DELETE"};
    std::string s = std::string(kNames[static_cast<int>(a.kind)]) + " " + a.path.ToString();
    if (a.kind != UpdateAction::Kind::kRemove) s += " " + testing::Show(a.value);
    got.push_back(s);
  }
  std::vector<std::string> want = {
      R"(SET a {"N":"1"})",
      R"(SET b.c[2] (b.c[1] + {"N":"2"}))",
      R"(SET d (if_not_exists(d, {"N":"1"}) - {"N":"1"}))",
      R"(SET e list_append(e, {"L":[{"N":"1"}]}))",
      R"(SET f (f + {"N":"1"}))",
      "REMOVE g",
      "REMOVE h[3]",
      R"(ADD i {"N":"1"})",
      R"(ADD j {"SS":["x"]})",
      R"(DELETE k {"SS":["x"]})",
  };
  EXPECT_EQ(got, want);
}

TEST(UpdateGrammarTest, ClausesInAnyOrderAndCase) {
  EXPECT_EQ(UpdateError("remove a set b = :1"), "OK");
  EXPECT_EQ(UpdateError("DELETE a :ss ADD b :1 REMOVE c SET d = :1"), "OK");
  EXPECT_EQ(UpdateError("SET a = list_append(:l, if_not_exists(a, :l))"), "OK");
  EXPECT_EQ(UpdateError("SET a = if_not_exists(a, if_not_exists(b, :1))"), "OK");
  EXPECT_EQ(UpdateError("SET a = if_not_exists(a, :1) + if_not_exists(b, :1)"), "OK");
}

TEST(UpdateGrammarTest, Errors) {
  const Case cases[] = {
      {"", "Invalid UpdateExpression: The expression can not be empty;"},
      {"SET a", R"(Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a")"},
      {"SET a = :1 SET b = :1",
       R"(Invalid UpdateExpression: The "SET" section can only be used once in an update expression;)"},
      {"REMOVE a REMOVE b",
       R"(Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;)"},
      {"ADD a :1 ADD b :1",
       R"(Invalid UpdateExpression: The "ADD" section can only be used once in an update expression;)"},
      {"DELETE a :ss DELETE b :ss",
       R"(Invalid UpdateExpression: The "DELETE" section can only be used once in an update expression;)"},
      {"SET a = :1, a.b = :1",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
       "rewrite one of these paths; path one: [a], path two: [a, b]"},
      {"SET #a = :1, #a.b = :1",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
       "rewrite one of these paths; path one: [a], path two: [a, b]"},
      {"SET a = :1 REMOVE a",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
       "rewrite one of these paths; path one: [a], path two: [a]"},
      {"SET a[1] = :1 REMOVE a",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
       "rewrite one of these paths; path one: [a, [1]], path two: [a]"},
      {"SET m.b = :1, m[0] = :1",
       "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
       "rewrite one of these paths; path one: [m, b], path two: [m, [0]]"},
      {"ADD a :s",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
       "operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"},
      {"ADD a :l",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
       "operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"},
      {"DELETE a :1",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
       "DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"},
      {"SET a = size(b)",
       "Invalid UpdateExpression: The function is not allowed in an update expression; function: "
       "size"},
      {"SET a = attribute_exists(b)",
       "Invalid UpdateExpression: The function is not allowed in an update expression; function: "
       "attribute_exists"},
      {"SET a = foo(b)", "Invalid UpdateExpression: Invalid function name; function: foo"},
      {"SET a = a + :s",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
       "function: +, operand type: S"},
      {"SET a = :m - a",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
       "function: -, operand type: M"},
      {"SET a = list_append(:1, a)",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
       "function: list_append, operand type: N"},
      {"SET a = if_not_exists(:1, :1)",
       "Invalid UpdateExpression: Operator or function requires a document path; operator or "
       "function: if_not_exists"},
      {"SET a = list_append(list_append(a, :l), :l)",
       "Invalid UpdateExpression: The function is not allowed to be used this way in an "
       "expression; function: list_append"},
      {"SET a = if_not_exists(a, list_append(a, :l))",
       "Invalid UpdateExpression: The function is not allowed to be used this way in an "
       "expression; function: list_append"},
      {"SET a = list_append(a)",
       "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator "
       "or function: list_append, number of operands: 1"},
      {"SET a = a + :1 + :1",
       R"(Invalid UpdateExpression: Syntax error; token: "+", near: ":1 + :1")"},
      {"SET a = :1, REMOVE b",
       R"(Invalid UpdateExpression: Syntax error; token: "REMOVE", near: ", REMOVE b")"},
      {"PUT a = :1", R"(Invalid UpdateExpression: Syntax error; token: "PUT", near: "PUT a")"},
      {"SET :1 = a", R"(Invalid UpdateExpression: Syntax error; token: ":1", near: "SET :1 =")"},
      {"ADD a b", R"(Invalid UpdateExpression: Syntax error; token: "b", near: "a b")"},
      {"SET a = :1 junk",
       R"(Invalid UpdateExpression: Syntax error; token: "junk", near: ":1 junk")"},
      {"SET status = :1",
       "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"},
  };
  for (const Case& c : cases) EXPECT_EQ(UpdateError(c.text), c.want) << c.text;
}

TEST(UpdateGrammarTest, DistinctSiblingsDoNotOverlap) {
  EXPECT_EQ(UpdateError("SET a.b = :1, a.c = :1, l[0] = :1, l[1] = :1 REMOVE x[2], y"), "OK");
}

// --- ProjectionExpression grammar ------------------------------------------

TEST(ProjectionGrammarTest, PathsAndErrors) {
  ExpressionContext ctx = Ctx();
  Result<Projection> p = ParseProjection("a, #n.b[2], c[0].d", ctx);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->paths.size(), 3u);
  EXPECT_EQ(p->paths[1].ToString(), "name.b[2]");
  EXPECT_EQ(p->paths[2].ToBracketString(), "[c, [0], d]");

  const Case cases[] = {
      {"", "Invalid ProjectionExpression: The expression can not be empty;"},
      {"a, a.b",
       "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
       "rewrite one of these paths; path one: [a], path two: [a, b]"},
      {"a.b, a[0]",
       "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or "
       "rewrite one of these paths; path one: [a, b], path two: [a, [0]]"},
      {"status",
       "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved "
       "keyword: status"},
      {"a,", R"(Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ",")"},
      {"a b", R"(Invalid ProjectionExpression: Syntax error; token: "b", near: "a b")"},
      {":1", R"(Invalid ProjectionExpression: Syntax error; token: ":1", near: ":1")"},
  };
  for (const Case& c : cases) EXPECT_EQ(ProjectionError(c.text), c.want) << c.text;
}

}  // namespace
}  // namespace edgetable::expr

namespace edgetable::expr {
namespace {

// Random token soup: every parser answers OK or kInvalidArgument, never
// crashes (run under ASan/UBSan too). Deterministic (fixed seed).
TEST(ParserRobustnessTest, RandomTokenSoup) {
  static constexpr std::string_view kPieces[] = {"a",
                                                 "b",
                                                 ".",
                                                 "[",
                                                 "]",
                                                 "0",
                                                 "7",
                                                 "(",
                                                 ")",
                                                 ",",
                                                 "=",
                                                 "<>",
                                                 "<",
                                                 "<=",
                                                 ">",
                                                 ">=",
                                                 "+",
                                                 "-",
                                                 ":1",
                                                 ":s",
                                                 ":l",
                                                 ":ss",
                                                 "#n",
                                                 "#nope",
                                                 ":nope",
                                                 "AND",
                                                 "OR",
                                                 "NOT",
                                                 "BETWEEN",
                                                 "IN",
                                                 "SET",
                                                 "REMOVE",
                                                 "ADD",
                                                 "DELETE",
                                                 "size",
                                                 "contains",
                                                 "begins_with",
                                                 "attribute_exists",
                                                 "attribute_type",
                                                 "if_not_exists",
                                                 "list_append",
                                                 "status",
                                                 "$",
                                                 "#",
                                                 ":",
                                                 " "};
  constexpr size_t kCount = sizeof(kPieces) / sizeof(kPieces[0]);
  uint32_t state = 12345;
  auto next = [&state]() {
    state = state * 1103515245u + 12345u;
    return (state >> 16) & 0x7FFF;
  };
  const item::KeySchema schema{{"a", item::Type::kN}, item::KeyAttribute{"b", item::Type::kS}};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int n = 1 + static_cast<int>(next() % 14);
    for (int i = 0; i < n; ++i) {
      text += kPieces[next() % kCount];
      text += ' ';
    }
    ExpressionContext ctx = Ctx();
    auto check = [&](const Status& s) {
      EXPECT_TRUE(s.ok() || s.code() == Status::Code::kInvalidArgument) << text << s.ToString();
    };
    Result<Condition> c = ParseCondition(text, ExprKind::kFilter, ctx);
    check(c.status());
    if (c.ok()) (void)EvaluateCondition(*c, testing::ItemOf(R"({"a": {"L": [{"N": "1"}]}})"));
    Result<UpdateExpression> u = ParseUpdate(text, ctx);
    check(u.status());
    if (u.ok()) check(ApplyUpdate(*u, testing::ItemOf(R"({"a": {"L": [{"N": "1"}]}})")).status());
    Result<Projection> p = ParseProjection(text, ctx);
    check(p.status());
    if (p.ok()) (void)Project(*p, testing::ItemOf(R"({"a": {"L": [{"N": "1"}]}})"));
    check(ParseKeyCondition(text, schema, ctx).status());
  }
}

}  // namespace
}  // namespace edgetable::expr
