# The characters kept in the bundled CJK font subset (see make-cjk-font.sh).
import sys
chars=set()
# ASCII, Latin-1, Latin Extended-A, general punctuation
for r in [(0x20,0x7e),(0xa0,0xff),(0x100,0x17f),(0x2010,0x2027),(0x2030,0x205e),(0x20ac,0x20ac),(0x2190,0x2193),(0x3000,0x303f),(0xff01,0xff5e),(0x2460,0x2473)]:
    for c in range(r[0],r[1]+1): chars.add(chr(c))
# everything GB2312 encodes: 6763 hanzi, kana, Greek, Cyrillic, symbols
for hi in range(0xa1,0xf8):
    for lo in range(0xa1,0xff):
        try: chars.add(bytes([hi,lo]).decode('gb2312'))
        except UnicodeDecodeError: pass
sys.stdout.write(''.join(sorted(chars)))
