// Helpers shared by the tests: files, golden comparison, running the real binary.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nudge::test {

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

// Compares `actual` with the golden file; with NUDGE_UPDATE_GOLDEN=1 rewrites it instead.
// Returns an empty string when they match, or a short unified description of the first difference.
std::string compare_golden(const std::filesystem::path& golden, const std::string& actual);

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct run_extras {
  std::vector<std::string> env;  // NAME=value, added to the environment
  int kill_after_ms = -1;        // >= 0: SIGKILL the process after this long if still running
};

// Runs the nudge binary with arguments (no shell), from `cwd`.
run_result run_nudge(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                     const run_extras& extras = {});

std::filesystem::path tests_dir();

// A folder for one test's files, named `name` and this process's id, so that two test runs
// on one machine (two CI jobs, a developer's run during CI) never share one. Not created.
std::filesystem::path temp_dir(const std::string& name);

}  // namespace nudge::test
