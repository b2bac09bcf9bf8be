#pragma once
// The tokens of DynamoDB's expression language. Keywords (AND, SET, ...) are
// kName tokens recognised by the parser, case-insensitively.
// Threads: pure function.

#include <cstdint>
#include <string_view>
#include <vector>

namespace edgetable::expr::internal {

enum class TokenKind : uint8_t {
  kName,              // attribute name, keyword or function name: [A-Za-z_][A-Za-z0-9_]*
  kNamePlaceholder,   // #[A-Za-z0-9_]+
  kValuePlaceholder,  // :[A-Za-z0-9_]+
  kNumber,            // [0-9]+ (list indexes)
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kInvalid,  // a character that starts no token (one byte, or a lone # or :)
  kEnd,      // end of input; text is "<EOF>"
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // points into the expression (or "<EOF>")
  size_t begin = 0;       // byte offsets in the expression
  size_t end = 0;
};

// Splits `text` into tokens, always ending with one kEnd token. Whitespace
// separates tokens. Never fails: unknown characters become kInvalid tokens,
// which the parser reports as syntax errors.
std::vector<Token> Tokenize(std::string_view text);

}  // namespace edgetable::expr::internal
