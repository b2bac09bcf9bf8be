// Recursive-descent parser for DynamoDB's expressions.
//
// Condition grammar, loosest binding first (DynamoDB's "Precedence in
// conditions", evaluated left to right):
//   or      := and (OR and)*
//   and     := not (AND not)*
//   not     := NOT not | primary
//   primary := '(' or ')'
//            | term comparator term | term BETWEEN term AND term
//            | term IN '(' term (',' term)* ')'
//            | function '(' term (',' term)* ')'
//   term    := path | :value | function '(' term (',' term)* ')'
//   path    := (name | #name) ('.' (name | #name) | '[' digits ']')*
// Update grammar: clauses SET / REMOVE / ADD / DELETE in any order, each once:
//   SET path '=' operand (('+' | '-') operand)?, ...
//   REMOVE path, ...        ADD path :value, ...        DELETE path :value, ...
// Function calls are parsed generically into a Term and then checked where
// they are used, so that misuse gets DynamoDB's specific messages rather than
// a syntax error.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "edge/base/limits.h"
#include "edge/expr/expr.h"
#include "edge/expr/internal/eval_util.h"
#include "edge/expr/internal/lexer.h"
#include "edge/expr/internal/messages.h"
#include "edge/expr/internal/parse_util.h"
#include "edge/expr/internal/reserved_words.h"

namespace edgetable::expr {
namespace {

using internal::InvalidExpression;
using internal::OperandTypeName;
using internal::Token;
using internal::TokenKind;

// Bounds recursion (parentheses, NOT, nested function calls) so that a
// hostile expression cannot exhaust a small thread stack. limits::kExpressionBytesMax
// bounds the text; this bounds the depth within it.
constexpr int kNestingMax = 128;
// DynamoDB's limit on the values of one IN.
constexpr size_t kInValuesMax = 100;

// Stands in for an undefined :value while the rest of the expression is parsed.
const item::Value kUndefinedValue;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Words of the grammar itself; met where a name is expected they are a
// syntax error, not a misused reserved word.
bool IsGrammarKeyword(std::string_view w) {
  for (std::string_view k :
       {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}) {
    if (EqualsIgnoreCase(w, k)) return true;
  }
  return false;
}

bool IsConditionFunction(std::string_view f) {
  return f == "attribute_exists" || f == "attribute_not_exists" || f == "attribute_type" ||
         f == "begins_with" || f == "contains";
}
bool IsUpdateFunction(std::string_view f) { return f == "if_not_exists" || f == "list_append"; }

// A parsed operand before it is checked for where it is used.
struct Term {
  enum class Kind : uint8_t { kPath, kValue, kCall };
  Kind kind = Kind::kPath;
  Path path;
  const item::Value* value = nullptr;
  std::string function;
  std::vector<Term> args;
};

class Parser {
 public:
  Parser(std::string_view text, ExprKind kind, ExpressionContext& ctx)
      : text_(text), kind_(kind), ctx_(ctx) {}

  Status Start() {
    if (static_cast<int64_t>(text_.size()) > limits::kExpressionBytesMax) {
      return Error("Expression size has exceeded the maximum allowed size; expression size: " +
                   std::to_string(text_.size()));
    }
    tokens_ = internal::Tokenize(text_);
    if (text_.empty()) return Error("The expression can not be empty;");
    match_.assign(tokens_.size(), 0);
    std::vector<size_t> open;
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].kind == TokenKind::kLParen) {
        open.push_back(i);
      } else if (tokens_[i].kind == TokenKind::kRParen && !open.empty()) {
        match_[open.back()] = i;
        open.pop_back();
      }
    }
    return Status::Ok();
  }

  Result<Condition> ParseWholeCondition() {
    ET_ASSIGN_OR_RETURN(Condition c, ParseOr(0));
    if (Peek().kind != TokenKind::kEnd) return SyntaxError();
    ET_RETURN_IF_ERROR(Deferred());
    return c;
  }

  Result<UpdateExpression> ParseWholeUpdate();
  Result<Projection> ParseWholeProjection();

 private:
  // --- tokens ---
  const Token& Peek() const { return tokens_[pos_]; }
  void Advance() {
    if (tokens_[pos_].kind != TokenKind::kEnd) ++pos_;
  }
  bool PeekKeyword(std::string_view kw) const {
    return Peek().kind == TokenKind::kName && EqualsIgnoreCase(Peek().text, kw);
  }
  bool Accept(TokenKind k) {
    if (Peek().kind != k) return false;
    Advance();
    return true;
  }
  Status Expect(TokenKind k) { return Accept(k) ? Status::Ok() : SyntaxError(); }

  // The error to report once the syntax is known to be valid. DynamoDB checks
  // in passes: syntax, then reserved words, then placeholders, then the rest;
  // a deferred error of an earlier pass therefore wins over `message` (later
  // checks may also have looked at a stand-in for an undefined value).
  Status Deferred() const { return !reserved_.ok() ? reserved_ : undefined_; }
  Status Error(std::string_view message) const {
    Status d = Deferred();
    return d.ok() ? InvalidExpression(kind_, message) : d;
  }

  // DynamoDB's syntax error: the offending token, and the text from the
  // token before it to the token after it.
  Status SyntaxError() const {
    const Token& cur = tokens_[pos_];
    // With no token before, the text from its start (so "   " for blank text).
    size_t begin = pos_ > 0 ? tokens_[pos_ - 1].begin : 0;
    size_t end = cur.end;
    if (cur.kind != TokenKind::kEnd && pos_ + 1 < tokens_.size() &&
        tokens_[pos_ + 1].kind != TokenKind::kEnd) {
      end = tokens_[pos_ + 1].end;
    }
    std::string near(text_.substr(begin, end - begin));
    return InvalidExpression(
        kind_, "Syntax error; token: \"" + std::string(cur.text) + "\", near: \"" + near + "\"");
  }

  // --- shared pieces ---
  // Syntax is checked over the whole expression before what the names mean
  // (DynamoDB reports `user-id` as a syntax error, not as the reserved word
  // `user`): such errors are kept here and returned once parsing succeeded.
  void DeferReserved(std::string_view word) {
    if (reserved_.ok()) {
      reserved_ = InvalidExpression(
          kind_, "Attribute name is a reserved keyword; reserved keyword: " + std::string(word));
    }
  }
  void DeferUndefined(const Status& s) {
    if (undefined_.ok()) undefined_ = InvalidExpression(kind_, s.message());
  }

  Result<std::string> ParsePathName() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kNamePlaceholder) {
      Result<std::string> name = ctx_.ResolveName(t.text);
      Advance();
      if (!name.ok()) {
        DeferUndefined(name.status());
        return std::string();
      }
      return name;
    }
    if (t.kind == TokenKind::kName && !IsGrammarKeyword(t.text)) {
      if (internal::IsReservedWord(t.text)) {
        DeferReserved(t.text);
      }
      std::string name(t.text);
      Advance();
      return name;
    }
    return SyntaxError();
  }

  Result<Path> ParsePath() {
    Path path;
    ET_ASSIGN_OR_RETURN(std::string first, ParsePathName());
    path.elements.push_back(PathElement::Name(std::move(first)));
    while (true) {
      if (Accept(TokenKind::kDot)) {
        ET_ASSIGN_OR_RETURN(std::string name, ParsePathName());
        path.elements.push_back(PathElement::Name(std::move(name)));
      } else if (Peek().kind == TokenKind::kLBracket) {
        Advance();
        if (Peek().kind != TokenKind::kNumber) return SyntaxError();
        uint32_t index = 0;
        if (!internal::ParseListIndex(Peek().text, &index)) {
          return Error("List index is not within the allowable range; index: [" +
                       std::string(Peek().text) + "]");
        }
        Advance();
        ET_RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
        path.elements.push_back(PathElement::Index(index));
      } else {
        break;
      }
    }
    if (static_cast<int>(path.elements.size()) > limits::kNestingDepthMax) {
      return Error("The document path has too many nesting levels; nesting levels: " +
                   std::to_string(path.elements.size()));
    }
    return path;
  }

  Result<Term> ParseTerm(int depth) {
    if (depth > kNestingMax) return Error("The expression has too many nested levels");
    const Token& t = Peek();
    Term term;
    if (t.kind == TokenKind::kValuePlaceholder) {
      Result<const item::Value*> v = ctx_.ResolveValue(t.text);
      Advance();
      term.kind = Term::Kind::kValue;
      if (v.ok()) {
        term.value = *v;
      } else {
        DeferUndefined(v.status());
        term.value = &kUndefinedValue;
      }
      return term;
    }
    if (t.kind == TokenKind::kName && tokens_[pos_ + 1].kind == TokenKind::kLParen) {
      term.kind = Term::Kind::kCall;
      term.function = std::string(t.text);
      Advance();
      Advance();
      while (true) {
        ET_ASSIGN_OR_RETURN(Term arg, ParseTerm(depth + 1));
        term.args.push_back(std::move(arg));
        if (Accept(TokenKind::kComma)) continue;
        ET_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
        break;
      }
      return term;
    }
    ET_ASSIGN_OR_RETURN(term.path, ParsePath());
    term.kind = Term::Kind::kPath;
    return term;
  }

  Status CheckArgCount(const Term& call, size_t n) const {
    if (call.args.size() == n) return Status::Ok();
    return Error("Incorrect number of operands for operator or function; operator or function: " +
                 call.function + ", number of operands: " + std::to_string(call.args.size()));
  }
  Status RequirePath(const Term& call, const Term& arg) const {
    if (arg.kind == Term::Kind::kPath) return Status::Ok();
    return Error("Operator or function requires a document path; operator or function: " +
                 call.function);
  }
  Status IncorrectOperandType(std::string_view op, item::Type t) const {
    return Error("Incorrect operand type for operator or function; operator or function: " +
                 std::string(op) + ", operand type: " + std::string(item::TypeName(t)));
  }
  Status UnknownFunction(const Term& call) const {
    return Error("Invalid function name; function: " + call.function);
  }

  // --- conditions ---
  // An operand of a comparison, BETWEEN, IN or a condition function.
  Result<Operand> ToConditionOperand(Term term) const {
    switch (term.kind) {
      case Term::Kind::kPath:
        return Operand::OfPath(std::move(term.path));
      case Term::Kind::kValue:
        return Operand::OfValue(*term.value);
      case Term::Kind::kCall:
        break;
    }
    if (term.function == "size") {
      ET_RETURN_IF_ERROR(CheckArgCount(term, 1));
      Term& arg = term.args[0];
      Operand o;
      o.kind = Operand::Kind::kSize;
      if (arg.kind == Term::Kind::kPath) {
        o.path = std::move(arg.path);
      } else if (arg.kind == Term::Kind::kValue) {
        // size(:v) is allowed, of a value that has a size.
        if (arg.value != &kUndefinedValue && !internal::SizeOf(*arg.value).has_value()) {
          return IncorrectOperandType("size", arg.value->type());
        }
        o.args.push_back(Operand::OfValue(*arg.value));
      } else if (arg.function == "size") {
        return IncorrectOperandType("size", item::Type::kN);
      } else {
        return Error(
            "The function is not allowed to be used this way in an expression; "
            "function: " +
            arg.function);
      }
      return o;
    }
    if (IsConditionFunction(term.function)) {
      return Error("The function is not allowed to be used this way in an expression; function: " +
                   term.function);
    }
    if (IsUpdateFunction(term.function)) {
      return Error("The function is not allowed in a condition expression; function: " +
                   term.function);
    }
    return UnknownFunction(term);
  }

  Result<Condition> ConditionFunction(Term call) const {
    const std::string& f = call.function;
    Condition c;
    if (f == "attribute_exists" || f == "attribute_not_exists") {
      c.kind = f == "attribute_exists" ? Condition::Kind::kAttributeExists
                                       : Condition::Kind::kAttributeNotExists;
      ET_RETURN_IF_ERROR(CheckArgCount(call, 1));
      ET_RETURN_IF_ERROR(RequirePath(call, call.args[0]));
    } else if (f == "attribute_type") {
      c.kind = Condition::Kind::kAttributeType;
      ET_RETURN_IF_ERROR(CheckArgCount(call, 2));
      ET_RETURN_IF_ERROR(RequirePath(call, call.args[0]));
      const Term& type = call.args[1];
      if (type.kind == Term::Kind::kValue) {
        if (!type.value->is(item::Type::kS)) return IncorrectOperandType(f, type.value->type());
        if (!internal::ParseTypeName(type.value->s()).has_value()) {
          return Error("Invalid attribute type name found; type: " + type.value->s() +
                       ", valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}");
        }
      }
    } else if (f == "begins_with") {
      c.kind = Condition::Kind::kBeginsWith;
      ET_RETURN_IF_ERROR(CheckArgCount(call, 2));
      for (const Term& arg : call.args) {
        if (arg.kind == Term::Kind::kValue && !arg.value->is(item::Type::kS) &&
            !arg.value->is(item::Type::kB)) {
          return IncorrectOperandType(f, arg.value->type());
        }
      }
    } else if (f == "contains") {
      c.kind = Condition::Kind::kContains;
      ET_RETURN_IF_ERROR(CheckArgCount(call, 2));
    } else if (f == "size") {
      return Error(
          "The function is not allowed to be used this way in an expression; function: size");
    } else if (IsUpdateFunction(f)) {
      return Error("The function is not allowed in a condition expression; function: " + f);
    } else {
      return UnknownFunction(call);
    }
    if (call.args.size() == 2 && call.args[0].kind == Term::Kind::kPath &&
        call.args[1].kind == Term::Kind::kPath && call.args[0].path == call.args[1].path) {
      return Error(
          "The first operand must be distinct from the remaining operands for this "
          "operator or function; operator: " +
          f + ", first operand: " + call.args[0].path.ToBracketString());
    }
    for (Term& arg : call.args) {
      ET_ASSIGN_OR_RETURN(Operand o, ToConditionOperand(std::move(arg)));
      c.operands.push_back(std::move(o));
    }
    return c;
  }

  Result<Condition> ParseOr(int depth) {
    if (depth > kNestingMax) return Error("The expression has too many nested levels");
    ET_ASSIGN_OR_RETURN(Condition left, ParseAnd(depth));
    while (PeekKeyword("OR")) {
      Advance();
      ET_ASSIGN_OR_RETURN(Condition right, ParseAnd(depth));
      Condition c;
      c.kind = Condition::Kind::kOr;
      c.children.push_back(std::move(left));
      c.children.push_back(std::move(right));
      left = std::move(c);
    }
    return left;
  }

  Result<Condition> ParseAnd(int depth) {
    ET_ASSIGN_OR_RETURN(Condition left, ParseNot(depth));
    while (PeekKeyword("AND")) {
      Advance();
      ET_ASSIGN_OR_RETURN(Condition right, ParseNot(depth));
      Condition c;
      c.kind = Condition::Kind::kAnd;
      c.children.push_back(std::move(left));
      c.children.push_back(std::move(right));
      left = std::move(c);
    }
    return left;
  }

  // NOT chains are counted rather than recursed into: a long chain costs no stack.
  Result<Condition> ParseNot(int depth) {
    size_t nots = 0;
    while (PeekKeyword("NOT")) {
      Advance();
      ++nots;
    }
    ET_ASSIGN_OR_RETURN(Condition c, ParsePrimary(depth));
    for (; nots > 0; --nots) {
      Condition outer;
      outer.kind = Condition::Kind::kNot;
      outer.children.push_back(std::move(c));
      c = std::move(outer);
    }
    return c;
  }

  // "((x))": DynamoDB rejects a pair of parentheses that directly encloses
  // another pair. REQUIRES: Peek() is the '(' to check.
  Status CheckRedundantParens() const {
    const size_t open = pos_;
    const size_t close = match_[open];
    if (close > open + 1 && tokens_[open + 1].kind == TokenKind::kLParen &&
        match_[open + 1] + 1 == close) {
      return Error("The expression has redundant parentheses;");
    }
    return Status::Ok();
  }

  static bool ComparatorOf(TokenKind k, CompareOp* op) {
    switch (k) {
      case TokenKind::kEq:
        *op = CompareOp::kEq;
        return true;
      case TokenKind::kNe:
        *op = CompareOp::kNe;
        return true;
      case TokenKind::kLt:
        *op = CompareOp::kLt;
        return true;
      case TokenKind::kLe:
        *op = CompareOp::kLe;
        return true;
      case TokenKind::kGt:
        *op = CompareOp::kGt;
        return true;
      case TokenKind::kGe:
        *op = CompareOp::kGe;
        return true;
      default:
        return false;
    }
  }

  Result<Condition> ParsePrimary(int depth) {
    if (Peek().kind == TokenKind::kLParen) {
      ET_RETURN_IF_ERROR(CheckRedundantParens());
      Advance();
      ET_ASSIGN_OR_RETURN(Condition inner, ParseOr(depth + 1));
      ET_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      return inner;
    }
    ET_ASSIGN_OR_RETURN(Term first, ParseTerm(depth + 1));
    Condition c;
    CompareOp op;
    if (ComparatorOf(Peek().kind, &op)) {
      Advance();
      ET_ASSIGN_OR_RETURN(Term second, ParseTerm(depth + 1));
      c.kind = Condition::Kind::kCompare;
      c.op = op;
      ET_ASSIGN_OR_RETURN(Operand a, ToConditionOperand(std::move(first)));
      ET_ASSIGN_OR_RETURN(Operand b, ToConditionOperand(std::move(second)));
      c.operands.push_back(std::move(a));
      c.operands.push_back(std::move(b));
      if (op != CompareOp::kEq && op != CompareOp::kNe) {
        ET_RETURN_IF_ERROR(CheckOrderedConstants(CompareOpText(op), c.operands));
      }
      ET_RETURN_IF_ERROR(CheckDistinct(CompareOpText(op), c.operands));
      return c;
    }
    if (PeekKeyword("BETWEEN")) {
      Advance();
      ET_ASSIGN_OR_RETURN(Term low, ParseTerm(depth + 1));
      if (!PeekKeyword("AND")) return SyntaxError();
      Advance();
      ET_ASSIGN_OR_RETURN(Term high, ParseTerm(depth + 1));
      c.kind = Condition::Kind::kBetween;
      for (Term* t : {&first, &low, &high}) {
        ET_ASSIGN_OR_RETURN(Operand o, ToConditionOperand(std::move(*t)));
        c.operands.push_back(std::move(o));
      }
      ET_RETURN_IF_ERROR(CheckOrderedConstants("BETWEEN", c.operands));
      ET_RETURN_IF_ERROR(CheckDistinct("BETWEEN", c.operands));
      ET_RETURN_IF_ERROR(CheckBetweenBounds(c.operands[1], c.operands[2]));
      return c;
    }
    if (PeekKeyword("IN")) {
      Advance();
      ET_RETURN_IF_ERROR(Expect(TokenKind::kLParen));
      c.kind = Condition::Kind::kIn;
      ET_ASSIGN_OR_RETURN(Operand lhs, ToConditionOperand(std::move(first)));
      c.operands.push_back(std::move(lhs));
      while (true) {
        ET_ASSIGN_OR_RETURN(Term t, ParseTerm(depth + 1));
        ET_ASSIGN_OR_RETURN(Operand o, ToConditionOperand(std::move(t)));
        c.operands.push_back(std::move(o));
        if (Accept(TokenKind::kComma)) continue;
        ET_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
        break;
      }
      if (c.operands.size() - 1 > kInValuesMax) {
        return Error("The IN operator is provided with too many operands; number of operands: " +
                     std::to_string(c.operands.size() - 1));
      }
      ET_RETURN_IF_ERROR(CheckDistinct("IN", c.operands));
      return c;
    }
    if (first.kind == Term::Kind::kCall) return ConditionFunction(std::move(first));
    return SyntaxError();
  }

  // <, <=, >, >= and BETWEEN order S, N and B only; a constant of another
  // type can never match and DynamoDB rejects it.
  Status CheckOrderedConstants(std::string_view op, const std::vector<Operand>& operands) const {
    for (const Operand& o : operands) {
      if (o.kind != Operand::Kind::kValue) continue;
      const item::Type t = o.value.type();
      if (t != item::Type::kS && t != item::Type::kN && t != item::Type::kB) {
        return IncorrectOperandType(op, t);
      }
    }
    return Status::Ok();
  }

  // DynamoDB rejects an operator whose first operand, a path, reappears.
  Status CheckDistinct(std::string_view op, const std::vector<Operand>& operands) const {
    if (operands.empty() || operands[0].kind != Operand::Kind::kPath) return Status::Ok();
    for (size_t i = 1; i < operands.size(); ++i) {
      if (operands[i].kind == Operand::Kind::kPath && operands[i].path == operands[0].path) {
        return Error(
            "The first operand must be distinct from the remaining operands for this "
            "operator or function; operator: " +
            std::string(op) + ", first operand: " + operands[0].path.ToBracketString());
      }
    }
    return Status::Ok();
  }

  Status CheckBetweenBounds(const Operand& low, const Operand& high) const {
    if (low.kind != Operand::Kind::kValue || high.kind != Operand::Kind::kValue) {
      return Status::Ok();
    }
    const item::Value& a = low.value;
    const item::Value& b = high.value;
    const bool printable = (a.is(item::Type::kS) || a.is(item::Type::kN)) &&
                           (b.is(item::Type::kS) || b.is(item::Type::kN));
    if (!printable) return Status::Ok();
    if (a.type() != b.type()) {
      return Error(
          "The BETWEEN operator requires same data type for lower and upper bounds; lower "
          "bound operand: AttributeValue: {" +
          internal::ScalarText(a) + "}, upper bound operand: AttributeValue: {" +
          internal::ScalarText(b) + "}");
    }
    if (item::CompareScalar(a, b) <= 0) return Status::Ok();
    return Error(
        "The BETWEEN operator requires upper bound to be greater than or equal to lower "
        "bound; lower bound operand: AttributeValue: {" +
        internal::ScalarText(a) + "}, upper bound operand: AttributeValue: {" +
        internal::ScalarText(b) + "}");
  }

  // --- update ---
  // `nested`: the term is an argument of a function. list_append may not be
  // (DynamoDB), if_not_exists may.
  Result<Operand> ToUpdateOperand(Term term, bool nested = false) const {
    switch (term.kind) {
      case Term::Kind::kPath:
        return Operand::OfPath(std::move(term.path));
      case Term::Kind::kValue:
        return Operand::OfValue(*term.value);
      case Term::Kind::kCall:
        break;
    }
    Operand o;
    if (term.function == "if_not_exists") {
      ET_RETURN_IF_ERROR(CheckArgCount(term, 2));
      ET_RETURN_IF_ERROR(RequirePath(term, term.args[0]));
      o.kind = Operand::Kind::kIfNotExists;
      o.path = std::move(term.args[0].path);
      ET_ASSIGN_OR_RETURN(Operand fallback, ToUpdateOperand(std::move(term.args[1]), true));
      o.args.push_back(std::move(fallback));
      return o;
    }
    if (term.function == "list_append") {
      if (nested) {
        return Error(
            "The function is not allowed to be used this way in an expression; function: "
            "list_append");
      }
      ET_RETURN_IF_ERROR(CheckArgCount(term, 2));
      o.kind = Operand::Kind::kListAppend;
      for (Term& arg : term.args) {
        ET_ASSIGN_OR_RETURN(Operand a, ToUpdateOperand(std::move(arg), true));
        if (a.kind == Operand::Kind::kValue && !a.value.is(item::Type::kL)) {
          return IncorrectOperandType("list_append", a.value.type());
        }
        o.args.push_back(std::move(a));
      }
      return o;
    }
    if (term.function == "size" || IsConditionFunction(term.function)) {
      return Error("The function is not allowed in an update expression; function: " +
                   term.function);
    }
    return UnknownFunction(term);
  }

  // SET's value: operand, operand + operand, operand - operand, or such a
  // value in parentheses (which then cannot be an operand of + or -).
  Result<Operand> ParseSetValue(int depth) {
    if (depth > kNestingMax) return Error("The expression has too many nested levels");
    if (Peek().kind == TokenKind::kLParen) {
      ET_RETURN_IF_ERROR(CheckRedundantParens());
      Advance();
      ET_ASSIGN_OR_RETURN(Operand inner, ParseSetValue(depth + 1));
      ET_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      return inner;
    }
    ET_ASSIGN_OR_RETURN(Term first, ParseTerm(depth + 1));
    ET_ASSIGN_OR_RETURN(Operand a, ToUpdateOperand(std::move(first)));
    const bool plus = Peek().kind == TokenKind::kPlus;
    if (!plus && Peek().kind != TokenKind::kMinus) return a;
    Advance();
    ET_ASSIGN_OR_RETURN(Term second, ParseTerm(depth + 1));
    ET_ASSIGN_OR_RETURN(Operand b, ToUpdateOperand(std::move(second)));
    for (const Operand* x : {&a, &b}) {
      if (x->kind == Operand::Kind::kValue && !x->value.is(item::Type::kN)) {
        return IncorrectOperandType(plus ? "+" : "-", x->value.type());
      }
    }
    Operand o;
    o.kind = plus ? Operand::Kind::kPlus : Operand::Kind::kMinus;
    o.args.push_back(std::move(a));
    o.args.push_back(std::move(b));
    return o;
  }

  // ADD and DELETE take a path and one :value whose type decides the action.
  Result<UpdateAction> ParseAddOrDelete(UpdateAction::Kind kind) {
    UpdateAction action;
    action.kind = kind;
    ET_ASSIGN_OR_RETURN(action.path, ParsePath());
    if (Peek().kind != TokenKind::kValuePlaceholder) return SyntaxError();
    ET_ASSIGN_OR_RETURN(Term value, ParseTerm(1));
    const item::Value& v = *value.value;
    const bool ok =
        kind == UpdateAction::Kind::kAdd ? (v.is(item::Type::kN) || v.is_set()) : v.is_set();
    if (!ok) {
      const std::string op = kind == UpdateAction::Kind::kAdd ? "ADD" : "DELETE";
      return Error("Incorrect operand type for operator or function; operator: " + op +
                   ", operand type: " + std::string(OperandTypeName(v.type())) +
                   ", typeSet: ALLOWED_FOR_" + op + "_OPERAND");
    }
    action.value = Operand::OfValue(v);
    return action;
  }

  std::string_view text_;
  ExprKind kind_;
  ExpressionContext& ctx_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Status reserved_;            // first reserved word used as a name
  Status undefined_;           // first undefined placeholder
  std::vector<size_t> match_;  // index of the matching ')' of each '(' (or 0)
};

Result<UpdateExpression> Parser::ParseWholeUpdate() {
  UpdateExpression update;
  bool seen[4] = {false, false, false, false};
  static constexpr std::string_view kClauses[4] = {"SET", "REMOVE", "ADD", "DELETE"};
  while (Peek().kind != TokenKind::kEnd) {
    int clause = -1;
    for (int i = 0; i < 4; ++i) {
      if (PeekKeyword(kClauses[i])) clause = i;
    }
    if (clause < 0) return SyntaxError();
    if (seen[clause]) {
      return Error("The \"" + std::string(kClauses[clause]) +
                   "\" section can only be used once in an update expression;");
    }
    seen[clause] = true;
    Advance();
    do {
      UpdateAction action;
      switch (clause) {
        case 0: {
          action.kind = UpdateAction::Kind::kSet;
          ET_ASSIGN_OR_RETURN(action.path, ParsePath());
          ET_RETURN_IF_ERROR(Expect(TokenKind::kEq));
          ET_ASSIGN_OR_RETURN(action.value, ParseSetValue(1));
          break;
        }
        case 1: {
          action.kind = UpdateAction::Kind::kRemove;
          ET_ASSIGN_OR_RETURN(action.path, ParsePath());
          break;
        }
        case 2: {
          ET_ASSIGN_OR_RETURN(action, ParseAddOrDelete(UpdateAction::Kind::kAdd));
          break;
        }
        default: {
          ET_ASSIGN_OR_RETURN(action, ParseAddOrDelete(UpdateAction::Kind::kDelete));
          break;
        }
      }
      update.actions.push_back(std::move(action));
    } while (Accept(TokenKind::kComma));
  }
  ET_RETURN_IF_ERROR(Deferred());
  std::vector<const Path*> paths;
  for (const UpdateAction& a : update.actions) paths.push_back(&a.path);
  ET_RETURN_IF_ERROR(internal::CheckPathsDisjoint(paths, kind_));
  return update;
}

Result<Projection> Parser::ParseWholeProjection() {
  Projection projection;
  do {
    ET_ASSIGN_OR_RETURN(Path p, ParsePath());
    projection.paths.push_back(std::move(p));
  } while (Accept(TokenKind::kComma));
  if (Peek().kind != TokenKind::kEnd) return SyntaxError();
  ET_RETURN_IF_ERROR(Deferred());
  std::vector<const Path*> paths;
  for (const Path& p : projection.paths) paths.push_back(&p);
  ET_RETURN_IF_ERROR(internal::CheckPathsDisjoint(paths, kind_));
  return projection;
}

}  // namespace

Result<Condition> ParseCondition(std::string_view text, ExprKind kind, ExpressionContext& ctx) {
  Parser p(text, kind, ctx);
  ET_RETURN_IF_ERROR(p.Start());
  return p.ParseWholeCondition();
}

Result<UpdateExpression> ParseUpdate(std::string_view text, ExpressionContext& ctx) {
  Parser p(text, ExprKind::kUpdate, ctx);
  ET_RETURN_IF_ERROR(p.Start());
  return p.ParseWholeUpdate();
}

Result<Projection> ParseProjection(std::string_view text, ExpressionContext& ctx) {
  Parser p(text, ExprKind::kProjection, ctx);
  ET_RETURN_IF_ERROR(p.Start());
  return p.ParseWholeProjection();
}

}  // namespace edgetable::expr
