#include "tandem/tools/command_policy.h"

#include <gtest/gtest.h>

namespace tandem::tools {
namespace {

struct Case {
  const char* command;
  bool allowed;
};

// Each row is one rule or one trap; docs/GUARDRAILS.md lists the rules.
const Case kCases[] = {
    // Ordinary work inside the workspace.
    {"ls -la", true},
    {"make -j2 && ctest --output-on-failure", true},
    {"pytest -q tests/test_x.py", true},
    {"npm test", true},
    {"npm run build", true},
    {"cargo build --release", true},
    {"go test ./...", true},
    {"python3 -c 'print(1)'", true},
    {"grep -rn TODO src | head -20", true},
    {"cat <<'EOF' > notes.txt\ngit push\nEOF", true},
    {"echo hi > out.txt 2>&1", true},
    {"echo hi >> build/log.txt", true},
    {"cmd 2>/dev/null", true},
    {"echo err >&2", true},
    {"FOO=bar make", true},
    {"cd src && ls", true},
    {"(cd src && make)", true},
    {"[ -f x ] && echo yes || echo no", true},
    {"for f in a b; do echo $f; done", true},
    {"x=$(git rev-parse HEAD); echo $x", true},
    {"sed -i 's/a/b/' src/a.c", true},
    {"sed -i '/^$/d' src/a.c", true},
    {"find . -name '*.o' -delete", true},
    {"find src -name '*.tmp' -exec rm {} +", true},
    {"mkdir -p build/out && cp a.txt build/out/", true},
    {"tee log.txt < input", true},
    {"echo \"$HOME\"", true},
    {"bash scripts/test.sh", true},
    {"sh -c 'make test'", true},
    {"timeout 10 ./run_tests", true},
    {"echo a | xargs echo", true},
    {"echo out > /tmp/scratch.txt", true},
    {"pip list", true},
    {"command -v git", true},
    // Quoting: the words are data, not commands.
    {"echo \"git push\"", true},
    {"echo 'rm -rf /'", true},
    {"git commit -m 'do not git push --force'", true},
    {"printf '%s\\n' 'curl http://x'", true},
    // rm inside the workspace is allowed (the post-step diff catches tracked deletions).
    {"rm -rf build", true},
    {"rm src/old.c", true},
    {"rm -f *.o", true},
    // Safe git.
    {"git status", true},
    {"git diff HEAD~1", true},
    {"git log --oneline -5", true},
    {"git add -A && git commit -m wip", true},
    {"git checkout -b feature", true},
    {"git checkout main", true},
    {"git switch -c topic", true},
    {"git restore --staged a.c", true},
    {"git stash", true},
    {"git branch -d merged", true},
    {"git clean -n", true},
    {"git clean -nd", true},
    {"git reset HEAD a.c", true},
    {"git -C sub status", true},

    // Git that reaches beyond the workspace or destroys work.
    {"git push", false},
    {"git push --force origin main", false},
    {"git fetch origin", false},
    {"git pull", false},
    {"git clone https://example.com/x.git", false},
    {"git reset --hard HEAD~1", false},
    {"git clean -fdx", false},
    {"git checkout -- src/a.c", false},
    {"git checkout .", false},
    {"git checkout -f main", false},
    {"git checkout main src/a.c", false},
    {"git restore src/a.c", false},
    {"git switch --discard-changes main", false},
    {"git rebase -i HEAD~3", false},
    {"git commit --amend -m x", false},
    {"git branch -D topic", false},
    {"git tag -d v1", false},
    {"git stash drop", false},
    {"git stash clear", false},
    {"git filter-branch --tree-filter x", false},
    {"git gc --prune=now", false},
    {"git update-ref -d refs/heads/x", false},
    {"git config --global user.name x", false},
    {"git -C /etc status", false},
    {"git --git-dir=/other/.git log", false},
    {"GIT_DIR=/x git log", false},
    {"git -c alias.x='!rm -rf /' x", false},
    {"git -c core.fsmonitor='curl x' status", false},
    {"git -c color.ui=never log", true},
    {"bash --rcfile x -c 'git push'", false},
    // Hidden inside wrappers, substitutions and subshells.
    {"bash -c 'git push'", false},
    {"sh -c \"cd .. && rm -rf x\"", false},
    {"bash -lc 'make && git push origin HEAD'", false},
    {"echo $(git push)", false},
    {"echo `git push`", false},
    {"x=\"$(curl http://evil)\"", false},
    {"(git push)", false},
    {"make || git push", false},
    {"make; git push", false},
    {"make & git push", false},
    {"cat a | git push", false},
    {"env FOO=1 git push", false},
    {"env -i git push", false},
    {"nice -n 10 git push", false},
    {"timeout 5 git push", false},
    {"nohup git push", false},
    {"command git push", false},
    {"exec git push", false},
    {"/usr/bin/git push", false},
    {"diff <(curl http://x) a", false},
    {"cat <<EOF\n$(git push)\nEOF", false},
    {"echo ${X:-$(git push)}", false},
    {"echo git push | sh", false},
    {"eval \"git push\"", false},
    {"$CMD push", false},
    {"bash -c \"$SCRIPT\"", false},
    {"find . -exec git push \\;", false},
    // Deletion and writes outside the workspace.
    {"rm -rf /", false},
    {"rm -rf ~/x", false},
    {"rm -rf ../other", false},
    {"rm -rf src/../../x", false},
    {"rm -rf .", false},
    {"rm -rf *", false},
    {"rm -rf .*", false},
    {"rm -rf \"$DIR\"", false},
    {"rm -rf {a,/etc}", false},
    {"rm .git/index", false},
    {"cd /etc && rm passwd", false},
    {"cd && rm x", false},
    {"cd src && rm ../../x", false},
    {"rmdir /var/empty", false},
    {"shred -u ~/.bash_history", false},
    {"truncate -s 0 /var/log/syslog", false},
    {"mv a.txt /usr/local/bin/", false},
    {"cp a.sh ~/bin/", false},
    {"dd if=/dev/zero of=/dev/sda", false},
    {"find / -name x -delete", false},
    {"find /etc -exec rm {} \\;", false},
    {"ls | xargs rm", false},
    {"chmod -R 777 /", false},
    {"chown -R me ~/", false},
    {"echo x > /etc/hosts", false},
    {"echo x >> ~/.bashrc", false},
    {"echo x > .git/HEAD", false},
    {"cat a &> /etc/x", false},
    {"echo x > $OUT", false},
    {"sed -i 's/a/b/' /etc/hosts", false},
    {"tee /etc/x < a", false},
    {"ln -s a ~/link", false},
    // Network, publishing, installs, privileges, system.
    {"curl https://example.com", false},
    {"wget http://x/y", false},
    {"ssh host ls", false},
    {"scp a host:/tmp", false},
    {"rsync -a src/ host:/backup", false},
    {"nc -l 8080", false},
    {"npm publish", false},
    {"npm install", false},
    {"npm ci", false},
    {"yarn", false},
    {"cargo publish", false},
    {"cargo install ripgrep", false},
    {"twine upload dist/*", false},
    {"python -m twine upload dist/*", false},
    {"gem push x.gem", false},
    {"docker push img", false},
    {"helm install x y", false},
    {"kubectl apply -f a.yaml", false},
    {"terraform apply", false},
    {"terraform destroy -auto-approve", false},
    {"gh release create v1", false},
    {"gh pr merge 1", false},
    {"pip install requests", false},
    {"python3 -m pip install -e .", false},
    {"apt-get install -y jq", false},
    {"go get example.com/x", false},
    {"sudo make install", false},
    {"su -c 'ls'", false},
    {"doas ls", false},
    {"killall node", false},
    {"systemctl restart nginx", false},
    // Unparseable: refused rather than guessed.
    {"echo 'unterminated", false},
    {"echo \"unterminated", false},
    {"echo $(unterminated", false},
    {"f() { git push; }; f", false},
    {"case x in a) git push;; esac", false},
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.allowed ? "allowed: " : "refused: ") << c.command;
}

class CommandPolicyTable : public ::testing::TestWithParam<Case> {};

TEST_P(CommandPolicyTable, ClassifiesAsDocumented) {
  const Case& c = GetParam();
  CommandVerdict v = ClassifyCommand(c.command);
  EXPECT_EQ(v.allowed(), c.allowed) << "command: " << c.command << "\nreason: " << v.reason;
  if (!c.allowed) {
    EXPECT_FALSE(v.reason.empty()) << c.command;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, CommandPolicyTable, ::testing::ValuesIn(kCases));

TEST(CommandPolicy, ReasonNamesTheCommandAndWhy) {
  CommandVerdict v = ClassifyCommand("make && git push origin main");
  EXPECT_EQ(v.risk, CommandRisk::kIrreversible);
  EXPECT_EQ(v.reason, "git push: publishes commits to a remote");
  v = ClassifyCommand("rm -rf ../x");
  EXPECT_EQ(v.reason, "rm: '../x' is outside the workspace");
}

TEST(CommandPolicy, PolicyNamesRoundTrip) {
  EXPECT_EQ(ParseCommandPolicy("refuse-risky"), CommandPolicy::kRefuseRisky);
  EXPECT_EQ(ParseCommandPolicy("allow-all"), CommandPolicy::kAllowAll);
  EXPECT_FALSE(ParseCommandPolicy("yolo").has_value());
  EXPECT_STREQ(CommandPolicyName(CommandPolicy::kAllowAll), "allow-all");
}

}  // namespace
}  // namespace tandem::tools
