"""The walk of one request through src/: from a callgrind profile of a debug build of
examples/request_profile.rs, the files of src/ it enters and the calls between two files
(per request). python3 bench/walk.py <callgrind.out> <requests in the profile> [src dir]"""
import collections, os, re, sys
path, nreq = sys.argv[1], int(sys.argv[2])
names={}; files={}
def nm(tok, table):
    m=re.match(r'\((\d+)\)(?: (.*))?', tok)
    if not m: return tok
    i,n=m.groups()
    if n: table[i]=n
    return table.get(i,i)
fl=None; fn=None; cfl=None; cfn=None
fn_file={}
edges=collections.Counter()
for line in open(path):
    line=line.rstrip('\n')
    if line.startswith('fl='): fl=nm(line[3:],files); 
    elif line.startswith(('fi=','fe=')): pass
    elif line.startswith('fn='): fn=nm(line[3:],names); fn_file.setdefault(fn, fl); cfl=None
    elif line.startswith('cfi=') or line.startswith('cfl='): cfl=nm(line[4:],files)
    elif line.startswith('cfn='):
        cfn=nm(line[4:],names)
        if cfl: fn_file.setdefault(cfn, cfl)
    elif line.startswith('calls='):
        c=int(line[6:].split()[0]); edges[(fn,cfn)]+=c; cfl=None
SRC=sys.argv[3] if len(sys.argv)>3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src') + '/'
SRC=os.path.normpath(SRC) + '/'
def f(fn):
    x=fn_file.get(fn) or ''
    return x.split(SRC,1)[1] if SRC in x else None
entered=collections.Counter(); jumps=0; pairs=collections.Counter()
for (a,b),c in edges.items():
    fa,fb=f(a),f(b)
    if fb: entered[fb]+=c
    if fa and fb and fa!=fb:
        jumps+=c; pairs[(fa,fb)]+=c
print(f"files entered: {len(entered)}; jumps between files per request: {jumps/nreq:.0f}")
into=collections.Counter()
for (fa,fb),c in pairs.items(): into[fb]+=c
print("entered most (jumps into, per request):", ", ".join(f"{k} {v/nreq:.0f}" for k,v in into.most_common(8)))
print("files:", " ".join(sorted(entered)))
