#include "tandem/verify/excerpt.h"

#include <gtest/gtest.h>

namespace tandem::verify {
namespace {

bool Has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

size_t Count(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

TEST(Excerpt, SmallOutputIsReturnedWholeWithoutColourCodes) {
  std::string out = ExcerptFailure("\x1b[1m\x1b[31merror:\x1b[0m boom\nexit 1\n\n\n");
  EXPECT_EQ(out, "error: boom\nexit 1\n");
}

TEST(Excerpt, CarriageReturnProgressKeepsOnlyTheFinalRedraw) {
  EXPECT_EQ(ExcerptFailure("progress 10%\rprogress 50%\rprogress 100%\r\ndone\n"),
            "progress 100%\ndone\n");
}

TEST(Excerpt, GccBuildFailureInNinjaLogKeepsTheErrorAndTail) {
  std::string log;
  for (int i = 1; i <= 300; ++i) {
    log += "[" + std::to_string(i) + "/400] Building CXX object src/CMakeFiles/lib.dir/file" +
           std::to_string(i) + ".cc.o\n";
  }
  log +=
      "FAILED: src/CMakeFiles/app.dir/main.cc.o\n"
      "/usr/bin/c++ -I/work/src -O2 -g -std=gnu++20 -MD -MT src/CMakeFiles/app.dir/main.cc.o -c "
      "/work/src/main.cc\n"
      "/work/src/main.cc: In function 'int main()':\n"
      "/work/src/main.cc:12:5: error: 'undefined_fn' was not declared in this scope\n"
      "   12 |     undefined_fn();\n"
      "      |     ^~~~~~~~~~~~\n";
  for (int i = 301; i <= 340; ++i) {
    log += "[" + std::to_string(i) + "/400] Building CXX object src/CMakeFiles/lib.dir/file" +
           std::to_string(i) + ".cc.o\n";
  }
  log += "ninja: build stopped: subcommand failed.\n";
  ASSERT_GT(log.size(), 4096u);

  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "main.cc:12:5: error: 'undefined_fn' was not declared in this scope"));
  EXPECT_TRUE(Has(out, "   12 |     undefined_fn();"));
  EXPECT_TRUE(Has(out, "FAILED: src/CMakeFiles/app.dir/main.cc.o"));
  EXPECT_TRUE(Has(out, "ninja: build stopped: subcommand failed."));
  EXPECT_FALSE(Has(out, "[150/400]"));  // noise from the middle is cut
  EXPECT_TRUE(Has(out, "lines omitted ...]"));
  EXPECT_TRUE(Has(out, "[excerpt: kept "));
}

TEST(Excerpt, CTestGoogleTestFailureKeepsAssertionAndSummary) {
  std::string log = "Test project /work/build\n";
  for (int i = 1; i <= 200; ++i) {
    std::string n = std::to_string(i);
    log += "      Start " + n + ": unit_" + n + "\n";
    log += n + "/200 Test #" + n + ": unit_" + n + " ......................   Passed    0.01 sec\n";
    if (i == 117) {
      log +=
          "117/200 Test #117: parser_test ......................***Failed    0.02 sec\n"
          "[==========] Running 3 tests from 1 test suite.\n"
          "[ RUN      ] Parser.ReadsNumbers\n"
          "/work/src/parser_test.cc:42: Failure\n"
          "Expected equality of these values:\n"
          "  Parse(\"12\")\n"
          "    Which is: 1\n"
          "  12\n"
          "[  FAILED  ] Parser.ReadsNumbers (0 ms)\n";
    }
  }
  log +=
      "\n99% tests passed, 1 tests failed out of 200\n\nTotal Test time (real) =   2.10 sec\n\n"
      "The following tests FAILED:\n\t117 - parser_test (Failed)\nErrors while running CTest\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "/work/src/parser_test.cc:42: Failure"));
  EXPECT_TRUE(Has(out, "    Which is: 1"));
  EXPECT_TRUE(Has(out, "[  FAILED  ] Parser.ReadsNumbers"));
  EXPECT_TRUE(Has(out, "The following tests FAILED:"));
  EXPECT_TRUE(Has(out, "117 - parser_test (Failed)"));
  EXPECT_FALSE(Has(out, "unit_50 "));
  EXPECT_FALSE(Has(out, "unit_150 "));  // passing lines do not pad the budget
}

TEST(Excerpt, PytestFailureKeepsTracebackAndShortSummary) {
  std::string log =
      "============================= test session starts ==============================\n"
      "platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0\n"
      "collected 2000 items\n\n";
  for (int i = 0; i < 200; ++i) {
    log += "tests/test_module" + std::to_string(i) +
           ".py ................................................. [ " + std::to_string(i) +
           "%]\n";
  }
  log +=
      "=================================== FAILURES ===================================\n"
      "_________________________________ test_divide __________________________________\n\n"
      "    def test_divide():\n"
      ">       assert divide(6, 3) == 3\n"
      "E       assert 2.0 == 3\n"
      "E        +  where 2.0 = divide(6, 3)\n\n"
      "tests/test_math.py:12: AssertionError\n"
      "=========================== short test summary info ============================\n"
      "FAILED tests/test_math.py::test_divide - assert 2.0 == 3\n"
      "======================== 1 failed, 1999 passed in 3.21s ========================\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, ">       assert divide(6, 3) == 3"));
  EXPECT_TRUE(Has(out, "E        +  where 2.0 = divide(6, 3)"));
  EXPECT_TRUE(Has(out, "tests/test_math.py:12: AssertionError"));
  EXPECT_TRUE(Has(out, "1 failed, 1999 passed"));
  EXPECT_FALSE(Has(out, "tests/test_module20.py"));
}

TEST(Excerpt, CargoErrorSurvivesAFloodOfRepeatedWarnings) {
  std::string log;
  for (int i = 0; i < 200; ++i) {
    log += "   Compiling crate" + std::to_string(i) + " v0.1.0\n";
  }
  log +=
      "error[E0308]: mismatched types\n"
      " --> src/main.rs:4:18\n"
      "  |\n"
      "4 |     let x: i32 = \"a\";\n"
      "  |            ---   ^^^ expected `i32`, found `&str`\n"
      "  |            |\n"
      "  |            expected due to this\n\n"
      "For more information about this error, try `rustc --explain E0308`.\n"
      "error: could not compile `demo` (bin \"demo\") due to 1 previous error\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "error[E0308]: mismatched types"));
  EXPECT_TRUE(Has(out, " --> src/main.rs:4:18"));
  EXPECT_TRUE(Has(out, "expected `i32`, found `&str`"));
  EXPECT_TRUE(Has(out, "error: could not compile `demo`"));
}

TEST(Excerpt, GoTestRepeatedLinesAreDroppedAfterTheFirst) {
  std::string log = "=== RUN   TestConnect\n";
  for (int i = 0; i < 1000; ++i) log += "    client_test.go:31: Error: connection refused\n";
  log +=
      "--- FAIL: TestConnect (2.00s)\n"
      "=== RUN   TestDiv\n"
      "    div_test.go:14: Div(1, 0) = 0, want error\n"
      "--- FAIL: TestDiv (0.00s)\n"
      "FAIL\n"
      "FAIL\texample.com/calc\t2.003s\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_EQ(Count(out, "Error: connection refused"), 1u) << out;
  EXPECT_TRUE(Has(out, "repeated lines dropped"));
  EXPECT_TRUE(Has(out, "--- FAIL: TestConnect"));
  EXPECT_TRUE(Has(out, "div_test.go:14: Div(1, 0) = 0, want error"));
  EXPECT_TRUE(Has(out, "FAIL\texample.com/calc"));
}

TEST(Excerpt, JestFailureKeepsExpectedAndReceived) {
  std::string log = "\x1b[1m\x1b[42m PASS \x1b[49m\x1b[22m src/a.test.js\n";
  for (int i = 0; i < 150; ++i) {
    log += " PASS  src/components/widget" + std::to_string(i) + ".test.js (1." +
           std::to_string(i % 10) + " s)\n";
  }
  log +=
      " FAIL  src/sum.test.js\n"
      "  \u25cf sum \u203a adds 1 + 2 to equal 3\n\n"
      "    expect(received).toBe(expected) // Object.is equality\n\n"
      "    Expected: 3\n"
      "    Received: 4\n\n"
      "      3 | test('adds 1 + 2 to equal 3', () => {\n"
      "    > 4 |   expect(sum(1, 2)).toBe(3);\n"
      "        |                     ^\n";
  for (int i = 150; i < 200; ++i) log += " PASS  src/components/widget" + std::to_string(i) + ".test.js\n";
  log +=
      "\nTest Suites: 1 failed, 200 passed, 201 total\n"
      "Tests:       1 failed, 999 passed, 1000 total\n"
      "npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "\u25cf sum \u203a adds 1 + 2 to equal 3"));
  EXPECT_TRUE(Has(out, "Expected: 3"));
  EXPECT_TRUE(Has(out, "Received: 4"));
  EXPECT_TRUE(Has(out, "Tests:       1 failed, 999 passed"));
  EXPECT_TRUE(Has(out, "npm ERR! errno 1"));
  EXPECT_FALSE(Has(out, "widget70.test.js"));
}

TEST(Excerpt, HugeOutputFullOfErrorsStaysWithinBudgetAndKeepsTheFirst) {
  std::string log;
  for (int i = 0; i < 20000; ++i) {
    log += "/src/f" + std::to_string(i) + ".c:1:1: error: unknown type name 'foo" +
           std::to_string(i) + "'\n";
  }
  for (size_t budget : {256u, 1024u, 4096u}) {
    ExcerptOptions options;
    options.budget_bytes = budget;
    std::string out = ExcerptFailure(log, options);
    EXPECT_LE(out.size(), budget);
    EXPECT_TRUE(Has(out, "[excerpt: kept ")) << out;
  }
  std::string out = ExcerptFailure(log);
  EXPECT_TRUE(Has(out, "/src/f0.c:1:1: error: unknown type name 'foo0'"));
  EXPECT_TRUE(Has(out, "/src/f19999.c:1:1: error"));
}

TEST(Excerpt, OverlongLinesAreShortenedWithoutSplittingUtf8) {
  std::string line = "error: ";
  for (int i = 0; i < 2000; ++i) line += "\u00e9";  // 2 bytes each
  std::string log = line + "\n";
  for (int i = 0; i < 300; ++i) log += "noise line " + std::to_string(i) + "\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "bytes cut]"));
  size_t cut = out.find(" [... ");
  ASSERT_NE(cut, std::string::npos);
  // The byte before the note ends a complete two-byte sequence.
  EXPECT_EQ(static_cast<unsigned char>(out[cut - 1]), 0xa9);
}

TEST(Excerpt, NoMarkersKeepsTheTail) {
  std::string log;
  for (int i = 0; i < 1000; ++i) log += "line " + std::to_string(i) + "\n";
  std::string out = ExcerptFailure(log);
  EXPECT_LE(out.size(), 4096u);
  EXPECT_TRUE(Has(out, "line 999\n"));
  EXPECT_FALSE(Has(out, "line 10\n"));
  EXPECT_TRUE(Has(out, "lines omitted ...]"));
}

TEST(Excerpt, RecognisesCommonMarkers) {
  for (std::string_view line :
       {"main.c:3: error: x", "error[E0425]: cannot find value", "FAILED: obj.o",
        "Traceback (most recent call last):", "thread 'main' panicked at src/lib.rs:3:5:",
        "E       assert 1 == 2", "npm ERR! code 1", "--- FAIL: TestX (0.00s)",
        "  \u25cf suite \u203a case", "  \u2717 should work", "TypeError: x is undefined"}) {
    EXPECT_TRUE(IsErrorLine(line)) << line;
  }
  for (std::string_view line : {"-- Build files have been written", "ok  example.com/x 0.1s",
                                "[ RUN      ] A.B", "Everything fine"}) {
    EXPECT_FALSE(IsErrorLine(line)) << line;
  }
}

}  // namespace
}  // namespace tandem::verify
