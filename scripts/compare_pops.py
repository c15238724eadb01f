#!/usr/bin/env python3
"""Populations for scripts/compare-runs.sh (stdlib only): the shipped
example, the spec's worked, small and faulty examples, and variants of the
example with injected bad values, duplicate ids, unknown households, quoted
ids, CRLF line ends and blank lines, and persons out of household order;
JSON Lines copies of some. Usage: compare_pops.py REPO SHARED OUTDIR"""
import csv, random, json, os, sys, shutil
random.seed(7)
repo, shared, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
os.chdir(outdir)
src=f'{repo}/examples/population'
def read(p):
    with open(p, newline='', encoding='utf-8') as f:
        r=list(csv.reader(f))
    return r[0], r[1:]
hh, hrows = read(f'{src}/households.csv')
ph, prows = read(f'{src}/persons.csv')
os.makedirs('pops', exist_ok=True)
def write(d, name, h, rows, crlf=False, blank_every=0):
    os.makedirs(d, exist_ok=True)
    with open(f'{d}/{name}', 'w', newline='', encoding='utf-8') as f:
        w=csv.writer(f, lineterminator='\r\n' if crlf else '\n')
        w.writerow(h)
        for i,r in enumerate(rows):
            w.writerow(r)
            if blank_every and i % blank_every == 3:
                f.write('\r\n' if crlf else '\n')
# 1. bad: injected errors
H=[list(r) for r in hrows]; P=[list(r) for r in prows]
for k in range(60):
    r=random.choice(P); c=random.randrange(2,len(ph)); r[c]=random.choice(['x','-1','2017-02-30','','12.345','TRUE',' 5 ','1e3'])
for k in range(15):
    r=random.choice(H); c=random.randrange(1,len(hh)); r[c]=random.choice(['x','-1','','nowhere','1,000'])
# duplicate ids
P[100][0]=P[50][0]; P[2000][0]=P[1999][0]
H[300][0]=H[301][0]
# unknown households
P[500][1]='H9999999'; P[4000][1]=''
# person ids with commas/quotes
P[10][0]='P"quoted",x'
write('pops/bad','households.csv',hh,H,crlf=True,blank_every=97)
write('pops/bad','persons.csv',ph,P,crlf=True,blank_every=53)
# 2. unordered persons
P2=[list(r) for r in prows]; random.shuffle(P2)
write('pops/unordered','households.csv',hh,hrows)
write('pops/unordered','persons.csv',ph,P2)
# 3. dups only (clean otherwise)
H3=[list(r) for r in hrows]; P3=[list(r) for r in prows]
P3[700][0]=P3[10][0]; H3[1000][0]=H3[5][0]
write('pops/dups','households.csv',hh,H3)
write('pops/dups','persons.csv',ph,P3)
# 4. copies of example and spec
for name, d in [('example', src), ('spec', f'{shared}/spec/examples'), ('specsmall', f'{shared}/spec/examples/population-small'), ('specerr', f'{shared}/spec/examples/errors')]:
    os.makedirs(f'pops/{name}', exist_ok=True)
    shutil.copy(f'{d}/households.csv', f'pops/{name}/households.csv')
    shutil.copy(f'{d}/persons.csv', f'pops/{name}/persons.csv')
# JSONL versions of example and bad
def tojsonl(d):
    for n in ['households','persons']:
        h, rows = read(f'pops/{d}/{n}.csv')
        with open(f'pops/{d}/{n}.jsonl','w',encoding='utf-8') as f:
            for r in rows:
                if len(r) != len(h): continue
                f.write(json.dumps(dict(zip(h,r)), ensure_ascii=False)+'\n')
for d in ['example','bad','specsmall']:
    tojsonl(d)
print('ok')
