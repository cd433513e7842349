# Writes the hand-made scenario of backtest's golden test (GBK and gzip files included).
# Run from this folder: python3 make.py. The outputs are checked in; Go tests never run this.
import gzip, json
def cd(f17):
    w=[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]; m='10X98765432'
    return f17+m[sum(int(a)*b for a,b in zip(f17,w))%11]
# The 17th digit is odd for men, even for women.
P={k:cd(v) for k,v in {
 'P1':'37100219400315001','P2':'37100219380210002','P3':'37100219500520004','P4':'37100219420701005',
 'P5':'37100219450909005','P6':'37108219470101009','P7':'37100219440808007','P8':'37100219640501011',
 'X1':'37100219990101009'}.items()}
roster='''person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified
{P1},张三,1,1940-03-15,山东省威海市环翠区环翠楼街道古寨社区,371002001001,13800000001,,EMP_PENSION,3000.00,2000-04,,,2023-03-15
{P1},张三,,,,371002001001,,13900000001,ELDERLY_ALLOWANCE,100,2020-04,,,2023-03-15
{P2},李秀英,2,1938-02-10,,371002001002,,,EMP_PENSION,2500.50,1993-03,,4000,2023-12-20
{P3},王芳,2,1950-05-20,,371002001003,1380000000x,,RES_PENSION,200,2010-06,,,2023-09-01
{P4},赵六,1,1942-07-01,,371002001004,,,GOV_PENSION,5200,2002-08,,,2023-05-02
{P5},孙七,1,1945-09-09,,371002001005,,,EMP_PENSION,2800,2005-10,,,2023-08-08
{P6},钱 八,1,1947-01-01,,371082100201,,,RES_PENSION,180,2012-02,,,2023-02-28
{P7},周九,1,1944-08-08,,371002001007,,,RES_PENSION,220,2009-09,,,2023-03-01
{P8},吴十,1,1964-05-01,,371002001008,,,EMP_PENSION,3300,2024-05,,,
{P8},吴十,1,1964-05-01,,371002001008,,,EMP_PENSION,3300,2024-05,,,
{P7},周九十,1,1944-08-08,,371002001007,,,DISABILITY_ALLOWANCE,80,2009-09,,,2023-03-01
'''.format(**P)
open('roster.csv','w').write(roster)
hea='''\ufeffRecord_ID,Source,Type,Person_ID,Name,Birth_Date,Event_Date,Reported_Date,Region_Code,Detail,Extra
H-0001,HEA,HEA.CHECKUP,{P1},张三,,2024-06-10,2024-06-12,,,x
H-0002,HEA,HEA.CHECKUP,{P4},赵六,,2024-03-01,2024-03-03,,,
H-0003,HEA,HEA.VACCINATION,{P1},张三,,2024-10-20T10:15:00+08:00,2024-10-25,,,
H-0004,HEA,HEA.BOGUS,{P1},张三,,2024-10-20,2024-10-25,,,
H-0005,TRN,HEA.CHECKUP,{P1},张三,,2024-10-20,2024-10-25,,,
H-0006,HEA,HEA.CHECKUP,{P1},张三,,2024-10-28,2024-10-25,,,
H-0007,HEA,HEA.CHECKUP,{P1},"张三,,,
H-0008,HEA,HEA.DEATH_CERT,{P4},赵六,,2024-02-20,2024-04-01,,,
H-0009,HEA,HEA.CHECKUP,{X1},某人,,2024-05-01,2024-05-02,,,
H-0010,HEA,HEA.FAMILY_DOCTOR,,周九,1944-08-08,2024-02-01,,,,
'''.format(**P)
open('records/HEA/2024.csv','w',encoding='utf-8').write(hea)
# Resends: H-0002 unchanged (duplicate), H-0001 changed (duplicate_conflict).
hea2='''record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail
H-0002,HEA,HEA.CHECKUP,{P4},赵六,,2024-03-01,2024-04-03,,
H-0001,HEA,HEA.CHECKUP,{P1},张三,,2024-06-11,2024-07-01,,
'''.format(**P)
open('records/HEA/2024-resend.csv','w').write(hea2)
# CIV sends GBK: P2's late cremation, a death naming P5's ID with another name (held), and
# a nursing-home check for P6 with a wrong check digit (linked by name and birth date).
bad = P['P6'][:17]+('0' if P['P6'][17]!='0' else '1')
civ='''record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail
C-1,CIV,CIV.CREMATION,{P2},李秀英,,2024-02-10,2024-04-05,371002,
C-2,CIV,CIV.CREMATION,{P5},周八,,2024-05-05,2024-05-09,,
C-3,CIV,CIV.NURSING_HOME,{bad},钱八,1947-01-01,2024-08-01,2024-08-03,,
'''.format(P2=P['P2'],P5=P['P5'],bad=bad)
open('records/CIV/2024.csv','wb').write(civ.encode('gbk'))
jus='''record_id,source,type,person_id,name,event_date,reported_date
J-1,JUS,JUS.PRISON_IN,{P3},王芳,2024-02-10,2024-02-12
J-2,JUS,JUS.PRISON_OUT,{P3},王芳,2024-05-20,2024-05-21
J-3,JUS,JUS.PRISON_OUT,{P3},王芳,2024-09-01,2024-09-02
'''.format(**P)
open('records/JUS/2024.csv','w').write(jus)
hrss='''record_id,source,type,person_id,name,event_date,reported_date,detail
R-1,HRSS,HRSS.REVIEW,{P4},赵六,2024-06-03,2024-06-03,accept=alive;ref=HEA:H-0008
F-1,HRSS,HRSS.FACE,{P8},吴十,2024-11-20,2024-11-20,agent=1
'''.format(**P)
open('records/HRSS/2024.csv','w').write(hrss)
lines=[
 {"record_id":"M-1","source":"MED","type":"MED.OUTPATIENT","person_id":P['P7'],"name":"周九","event_date":"2024-11-02","reported_date":"2024-11-04"},
 {"record_id":"M-2","source":"MED","type":"MED.CHRONIC","person_id":P['P7'],"event_date":"2024-12-10","reported_date":"2024-12-11"},
 {"record_id":"M-3","source":"MED","type":"MED.INPATIENT","person_id":P['P5'],"event_date":"2024-09-15","reported_date":"2024-09-20","detail":{"critical":"1","icd10":"I21.9","amount":"12000.50"}},
 {"record_id":"M-4","source":"MED","type":"MED.PHARMACY","person_id":P['P2'],"event_date":"2024-06-01","reported_date":"2024-06-02","detail":"amount=35.5"},
 {"record_id":"M-5","source":"MED","type":"MED.INPATIENT","person_id":P['P6'],"name":"钱八","event_date":"2024-10-01","reported_date":"2024-10-09","amount":5230.5},
]
with gzip.GzipFile('records/MED/2024.jsonl.gz','wb',mtime=0) as f:
    for l in lines: f.write((json.dumps(l,ensure_ascii=False)+'\n').encode())
trn='''record_id,source,type,person_id,event_date,reported_date
T-1,TRN,TRN.TRANSIT,{P7},2024-12-20,2024-12-21
T-2,TRN,TRN.TRANSIT,{P7},2024-12-20,2024-12-21
'''.format(**P)
open('records/TRN/2024.csv','w').write(trn)
import os
os.makedirs('records/PSB', exist_ok=True)
psb='''record_id,source,type,person_id,name,event_date,reported_date,region_code
P-1,PSB,PSB.HUKOU_MOVE,{P8},吴十,2024-09-01,2024-09-03,371002002001
'''.format(**P)
open('records/PSB/2024.csv','w').write(psb)
open('records/README.txt','w').write('not a record file: skipped with a warning\n')
