#!/usr/bin/env bats
# What every gitseal process pays before and around main: a small file's
# time on this VM is mostly start-up (docs/development.md, the small file).

load ../helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "thread-local storage is under a page: glibc zeroes it in every process and thread" {
	command -v readelf >/dev/null || skip "readelf is not installed"
	size=$(readelf -lW "$GITSEAL_BIN" | awk '$1 == "TLS" { print $6 }')
	[ -n "$size" ]
	[ $((size)) -lt 4096 ] || { echo "TLS memsz $size"; false; }
}

# Linked by lld, the functions a small `gitseal age` runs lie together at the
# start of .text (scripts/hot-functions.txt, --symbol-ordering-file): the
# kernel maps code 64 KiB at a time, and spread over .text's 790 KiB they
# cost a page fault each (docs/development.md, the small file).
@test "linked by lld, a small age file's functions lie within 128 KiB of each other" {
	command -v nm >/dev/null && command -v readelf >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (no ordering)"
	nm "$GITSEAL_BIN" | grep -q ' main$' || skip "no symbol table"
	n=0 lo=0 hi=0
	while read -r addr _ name; do
		case $name in
		_start | main | cmd_age | sodium_init | age_decrypt | age_encrypt_with | age_x25519_unwrap | \
			age_stream_decrypt | age_stream_encrypt | age_hkdf_sha256 | gs_atomic_commit | \
			crypto_scalarmult_curve25519_sandy2x_ladder | crypto_aead_chacha20poly1305_ietf_encrypt)
			a=$((16#$addr))
			if [ $n -eq 0 ] || [ $a -lt $lo ]; then lo=$a; fi
			if [ $a -gt $hi ]; then hi=$a; fi
			n=$((n + 1)) ;;
		esac
	done < <(nm "$GITSEAL_BIN")
	echo "$n functions found, spanning $((hi - lo)) bytes"
	[ "$n" -eq 13 ]
	[ $((hi - lo)) -lt $((128 * 1024)) ]
}

# lld puts .init, .fini and .plt after .text unless told (scripts/hot-sections.ld):
# every call into libc goes through .plt, a page fault of its own there.
@test "linked by lld, .init, .fini and .plt lie just before .text" {
	command -v readelf >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (no ordering)"
	sections=$(readelf -SW "$GITSEAL_BIN" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$7 ~ /X/ { print $1 }' | tr '\n' ' ')
	echo "executable sections: $sections"
	[[ "$sections" == *".init .fini .plt .text "* ]]
}

# The kernel maps a file's pages 64 KiB at a time on a fault, in windows
# aligned on the address: a 64 KiB segment alignment loads the program on
# such a boundary, so that the loader's first read (the program headers)
# maps the constants a small age file reads, which lld puts first in
# .rodata (scripts/hot-functions.txt), and the hot functions take two
# windows, not two or three as the load address fell.
@test "linked by lld, segments are 64 KiB aligned and a small age file's constants lie in the first 64 KiB" {
	command -v nm >/dev/null && command -v readelf >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (no ordering)"
	nm "$GITSEAL_BIN" | grep -q ' main$' || skip "no symbol table"
	aligns=$(readelf -lW "$GITSEAL_BIN" | awk '$1 == "LOAD" { print $NF }' | sort -u | tr '\n' ' ')
	echo "LOAD alignments: $aligns"
	[ "$aligns" = "0x10000 " ]
	nm "$GITSEAL_BIN" | awk '$3 == "age_accepted" || $3 == "gen.0" || $3 == "letters.1"' >"$TMP/constants"
	cat "$TMP/constants"
	[ "$(wc -l <"$TMP/constants")" -eq 3 ]
	# under 0x10000: at most four hex digits after the leading zeros
	! awk '{ print $1 }' "$TMP/constants" | grep -v '^0*[0-9a-f]\{1,4\}$' || false
}

# A small `gitseal age` went some 16 KiB deep into its stack, a page fault
# for each new 4 KiB (the loader has touched the top two or three): main's
# run held edit_distance's 5 KiB table (inlined from meant_command), and
# cmd_age run_decrypt's 4 KiB header buffer (inlined, for encryption too).
@test "linked by lld, main's run and cmd_age keep their stack frames under a page" {
	command -v objdump >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (the release build)"
	nm "$GITSEAL_BIN" | grep -q ' main$' || skip "no symbol table"
	objdump -d --no-show-raw-insn "$GITSEAL_BIN" >"$TMP/dis"
	# the frame a function reserves: its first sub $N,%rsp
	frame() {
		awk -v at="$1" '$0 ~ "^0*" at " <" { f = 1; n = 0; next }
			f && /sub +\$0x[0-9a-f]+,%rsp/ { sub(/.*\$0x/, ""); sub(/,.*/, ""); print; exit }
			f && ++n > 24 { print 0; exit }' "$TMP/dis"
	}
	# run is static, and not the only one: the one main calls
	run_at=$(awk '/^[0-9a-f]+ <main>:/ { f = 1; next } f && /<run>/ { print $(NF - 1); exit } f && /^$/ { exit }' "$TMP/dis")
	age_at=$(nm "$GITSEAL_BIN" | awk '$3 == "cmd_age" { sub(/^0*/, "", $1); print $1 }')
	[ -n "$run_at" ]
	[ -n "$age_at" ]
	run_frame=$(frame "$run_at")
	age_frame=$(frame "$age_at")
	echo "run: 0x$run_frame bytes, cmd_age: 0x$age_frame bytes"
	[ -n "$run_frame" ]
	[ -n "$age_frame" ]
	[ $((16#$run_frame)) -lt 4096 ]
	[ $((16#$age_frame)) -lt 4096 ]
}

# libc's rename lies far from open, fsync and flock, which an atomic write
# runs anyway: its 64 KiB of libc cost every `age -e -o` a page fault of its
# own. The rename goes through syscall(), beside them (src/util/io.c).
@test "the atomic write's rename does not go through libc's rename" {
	command -v nm >/dev/null || skip "binutils is not installed"
	nm -D "$GITSEAL_BIN" | grep -q ' open' || skip "no dynamic symbols"
	! nm -D "$GITSEAL_BIN" | grep -E ' U rename(at2?)?(@|$)' || false
	random_file "$TMP/small" 100
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/small.age" "$TMP/small"
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/small.age" "$TMP/small"
	[ "$(gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/small.age" | od -An -tx1)" = "$(od -An -tx1 <"$TMP/small")" ]
}

# The loader writes every page that holds a pointer it relocates (relro:
# .data.rel.ro, .got), and .data's page; each written page is a page fault
# of its own (about 30 us on this VM). lld's -z separate-loadable-segments
# starts relro on a page of its own (it began 0xe8 bytes before a page's
# end: one page more), and pointer tables built by code or holding their
# strings inline keep it at three pages (docs/development.md, the small file).
@test "linked by lld, relro starts a page and spans at most three" {
	command -v readelf >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (no ordering)"
	read -r addr size < <(readelf -lW "$GITSEAL_BIN" | awk '$1 == "GNU_RELRO" { print $3, $6 }')
	echo "relro at $addr, $size bytes"
	[ $((addr % 4096)) -eq 0 ]
	[ $(((size + 4095) / 4096)) -le 3 ]
}

# The variables a small `gitseal age` touches lie together after .data
# (scripts/hot-functions.txt lists them, lld orders them): spread over .bss
# they cost a page fault each for 4 of its 5 pages.
@test "linked by lld, the variables a small age file touches share .data's page" {
	command -v nm >/dev/null && command -v readelf >/dev/null || skip "binutils is not installed"
	readelf -p .comment "$GITSEAL_BIN" | grep -q 'LLD' || skip "not linked by lld (no ordering)"
	nm "$GITSEAL_BIN" | grep -q ' main$' || skip "no symbol table"
	data=$(readelf -SW "$GITSEAL_BIN" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".data" { print $3 }')
	[ -n "$data" ]
	page=$((16#$data / 4096))
	n=0
	while read -r addr _ name; do
		case $name in
		stdout | stderr | environ | cmd_lock | warning_handler | read_stamps_lock | _sodium_lock | _cpu_features)
			echo "$name at $addr (.data at $data)"
			[ $((16#$addr / 4096)) -eq $page ] || return 1
			n=$((n + 1)) ;;
		esac
	done < <(nm "$GITSEAL_BIN")
	[ "$n" -eq 8 ]
}

# A small file's input and payload buffers are its size, not the 128 KiB and
# 64 KiB a large one reads through: their far ends cost page faults, and
# malloc grew the heap for them and gave it back at exit (src/age/bufin.c).
@test "a small age -d grows the heap once" {
	command -v strace >/dev/null || skip "strace is not installed"
	[ "${GITSEAL_TEST_HOOKS:-}" != 1 ] || skip "glibc's malloc only (a release build)"
	random_file "$TMP/small" 100
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/small.age" "$TMP/small"
	strace -o "$TMP/trace" -e trace=brk "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" "$TMP/small.age" >"$TMP/out"
	cmp "$TMP/small" "$TMP/out"
	# brk(NULL), then one growth
	[ "$(grep -c '^brk(0x' "$TMP/trace")" -le 1 ] || { cat "$TMP/trace"; false; }
}

# A thread's first malloc maps it an arena of its own (glibc), touched 4 KiB
# at a time: libyaml's thread faulted in some 130 pages of it in a
# 10,000-value decrypt. A large sops input's threads share the main heap
# (util/heap.c, gs_heap_share), laid in huge pages for that input.
@test "a large sops decrypt maps no malloc arena for its threads" {
	command -v strace >/dev/null || skip "strace is not installed"
	# the sanitizer build's malloc is its own (no glibc arenas), and LSan
	# does not run under ptrace
	[ "${GITSEAL_TEST_HOOKS:-}" != 1 ] || skip "glibc's malloc only (a release build)"
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf "key%d: value-%d-secret\n", i, i }' >"$TMP/large.yaml"
	gitseal encrypt --age "$DEMO_RECIPIENT" "$TMP/large.yaml" >"$TMP/large.enc.yaml"
	[ "$(stat -c %s "$TMP/large.enc.yaml")" -gt 65536 ]
	export SOPS_AGE_KEY_FILE=$KEYS/demo-age-key.txt
	strace -f -o "$TMP/trace" -e trace=mmap "$GITSEAL_BIN" decrypt "$TMP/large.enc.yaml" >"$TMP/out"
	cmp "$TMP/large.yaml" "$TMP/out"
	# glibc reserves an arena's heap as 64 MiB, or twice that to align it
	arenas=$(grep -cE 'mmap\((NULL|0x[0-9a-f]+), (67108864|134217728), PROT_NONE' "$TMP/trace" || true)
	[ "$arenas" = 0 ] || { grep -E '(67108864|134217728), PROT_NONE' "$TMP/trace"; false; }
}

# A small age file never needs libcrypto: the payload's first 2 MiB are
# sealed with libsodium (docs/development.md, the age payload).
libcrypto_opened() {
	LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'file=libcrypto' || true
}

@test "a small age file is encrypted and decrypted without libcrypto" {
	random_file "$TMP/small" 100
	[ "$(libcrypto_opened gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/small.age" "$TMP/small")" = 0 ]
	[ "$(libcrypto_opened gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/small.age")" = 0 ]
	cmp "$TMP/small" "$TMP/out"
}

# Nor a large one where the build links OpenSSL's ChaCha20 and Poly1305 in
# (src/age/chacha_linked.c): opening libcrypto held the payload back 4-7 ms
@test "a large age file is encrypted and decrypted without libcrypto where its cipher is linked in" {
	command -v nm >/dev/null || skip "binutils is not installed"
	nm "$GITSEAL_BIN" | grep -q ' T ChaCha20_ctr32$' || skip "the cipher is not linked in (no libcrypto.a, or STATIC_DEPS=0)"
	random_file "$TMP/large" $((3 * 1024 * 1024 + 5))
	[ "$(libcrypto_opened gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/large.age" "$TMP/large")" = 0 ]
	[ "$(libcrypto_opened gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/large.age")" = 0 ]
	cmp "$TMP/large" "$TMP/out"
	if command -v age >/dev/null; then age -d -i "$KEYS/demo-age-key.txt" "$TMP/large.age" | cmp - "$TMP/large"; fi
}

@test "OpenSSL reads no configuration file: a large sops file decrypts under one that asks for FIPS" {
	# sops values go through OpenSSL's AES-GCM, the MAC through its SHA-512
	random_file "$TMP/bytes" 60000
	base64 -w 76 "$TMP/bytes" | awk '{ print "k" NR ": " $0 }' >"$TMP/large.yaml"
	gitseal encrypt --age "$DEMO_RECIPIENT" "$TMP/large.yaml" >"$TMP/large.enc.yaml"
	printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'alg_section = evp_properties' \
		'[evp_properties]' 'default_properties = fips=yes' >"$TMP/fips.cnf"
	export SOPS_AGE_KEY_FILE=$KEYS/demo-age-key.txt
	OPENSSL_CONF=$TMP/fips.cnf gitseal decrypt "$TMP/large.enc.yaml" >"$TMP/out"
	cmp "$TMP/large.yaml" "$TMP/out"
}

# A gitseal process held at its first read of standard input (a FIFO that
# nothing writes to): its pid in $held. release_held lets it go.
hold() {
	mkfifo "$TMP/in"
	# fd 3 is bats's own: the process must not hold it, and the writer is fd 8
	"$GITSEAL_BIN" "$@" <"$TMP/in" >/dev/null 2>&1 3>&- &
	held=$!
	exec 8>"$TMP/in"
	# until it blocks reading the FIFO, past its start-up
	for _ in $(seq 100); do
		case "$(cat /proc/$held/wchan 2>/dev/null)" in *pipe_read*) return 0 ;; esac
		sleep 0.05
	done
	return 1
}
release_held() {
	exec 8>&-
	wait "$held" || true
}

# glibc's mkstemp: no close-on-exec, and a first clock_gettime (two vDSO
# pages faulted in) for its name; util/io.c makes the name itself.
@test "the temporary output file is close-on-exec and named .gitseal-tmp-XXXXXX" {
	hold age -r "$DEMO_RECIPIENT" -o "$TMP/out.age"
	tmp_fd=""
	for fd in /proc/$held/fd/*; do
		case "$(readlink "$fd")" in "$TMP"/.gitseal-tmp-*) tmp_fd=${fd##*/}; name=$(readlink "$fd") ;; esac
	done
	[ -n "$tmp_fd" ] || { release_held; echo "no temporary file open"; false; }
	flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$held/fdinfo/$tmp_fd")
	release_held
	[[ "${name##*/}" =~ ^\.gitseal-tmp-[A-Za-z0-9_-]{6}$ ]]
	# O_CLOEXEC is 02000000 (octal) on Linux
	(( (8#$flags & 8#2000000) != 0 )) || { echo "flags $flags"; false; }
	# the input ended empty: an empty file's encryption, renamed into place
	[ -z "$(gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/out.age")" ]
	[ -z "$(ls -A "$TMP" | grep gitseal-tmp || true)" ]
}
