# Sourced by the mobyc launcher and scripts/mvn: sets JAVA_HOME to a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then /usr/lib/jvm/*25* (and newer), else a message saying what to install.
mobyc_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}
mobyc_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(mobyc_java_major "$candidate")
    case "$major" in ''|*[!0-9]*) continue ;; esac
    if [ "$major" -ge 25 ]; then export JAVA_HOME="$candidate"; return 0; fi
  done
  {
    echo "mobyc: needs a JDK 25 or newer, and none was found."
    echo "  Looked at: \$JAVA_HOME (${JAVA_HOME:-unset}) and /usr/lib/jvm/*25*."
    echo "  Install one (for example Eclipse Temurin 25: apt-get install temurin-25-jdk)"
    echo "  or set JAVA_HOME to a JDK 25 installation."
  } >&2
  return 1
}
