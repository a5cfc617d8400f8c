#!/usr/bin/env bash
# Rebuilds daily.cud, the signature database the tests' clamd loads (test/support/clamd.ts), from
# the signatures below, with ClamAV's sigtool (Debian package `clamav`). No signature download is
# possible where the tests run, so they bring their own. The file is named daily.* because clamd's
# VERSION reports the daily database's version, which the tests read back (ScanResult.signatureVersion);
# .cud is ClamAV's unsigned container (names from it are reported with a .UNOFFICIAL suffix).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# The EICAR test file (eicar.org): 68 bytes, matched at the start of the stream as the standard asks.
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
# Our own marker, matched anywhere (a signature that is not EICAR's).
marker='PLUGBOARD-TEST-MALWARE-MARKER'
# .ndb body signatures: Name:TargetType(0 = any file):Offset:HexSignature
{
  echo "Plugboard.Test.EICAR:0:0:$(hex "$eicar")"
  echo "Plugboard.Test.Marker:0:*:$(hex "$marker")"
} > "$work/daily.ndb"
echo 'Test signatures for Plugboard (EICAR and a marker of our own); public domain.' > "$work/COPYING"

(cd "$work" && echo plugboard | sigtool --build=daily.cud --unsigned --cvd-version=20 --no-cdiff --datadir="$work")
cp "$work/daily.cud" daily.cud
sigtool --info=daily.cud
