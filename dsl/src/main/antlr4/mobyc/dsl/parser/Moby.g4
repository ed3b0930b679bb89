/*
 * The .moby language: modules with typed hyper-parameters, parameters and state; functions over tensors with
 * shapes in their signatures; compile-time loops and conditionals; imports. See docs/language.md.
 */
grammar Moby;


file        : importDecl* topDecl* EOF ;
importDecl  : 'import' STRING ';' ;
topDecl     : moduleDecl | moduleAlias | fnDecl | constDecl ;
// a module with some hyper-parameters fixed: module SwinTiny = SwinTransformer(embed_dim=96, depths=[2, 2, 6, 2]);
moduleAlias : 'module' ID '=' target=ID '(' args? ')' ';' ;
constDecl   : 'const' ID '=' expr ';' ;

moduleDecl  : 'module' ID '(' (hyperParam (',' hyperParam)* ','?)? ')' '{' member* '}' ;
hyperParam  : ID ':' type ('=' expr)? ;

member      : 'param' ID ':' tensorType '=' expr ';'               # paramMember
            | 'state' ID ':' tensorType '=' expr ';'               # stateMember
            | 'let' ID '=' expr ';'                                # letMember
            | 'if' expr then=memberBlock ('else' otherwise=memberBlock)?  # ifMember
            | 'assert' expr (',' expr)? ';'                        # assertMember
            | fnDecl                                               # fnMember
            ;

memberBlock : '{' member* '}' ;

fnDecl      : 'fn' ID '(' (fnParam (',' fnParam)* ','?)? ')' ('->' type)? block ;
fnParam     : ID (':' type)? ('=' expr)? ;

type        : scalarType=('int' | 'float' | 'bool' | 'str')           # scalarType
            | 'list' ('[' type ']')?                                  # listType
            | 'module'                                                # moduleType
            | tensorType                                              # tensorTypeRef
            | '(' type (',' type)* ')'                                # tupleType
            ;
tensorType  : dtype=ID? '[' (dimPattern (',' dimPattern)*)? ']' ;
dimPattern  : '...'                                                   # ellipsisDim
            | expr                                                    # exprDim
            ;

block       : '{' stmt* '}' ;
stmt        : 'let' ID '=' expr ';'                                   # letStmt
            | 'let' '(' ID (',' ID)* ')' '=' expr ';'                 # letTupleStmt
            | ID '=' expr ';'                                         # assignStmt
            | ID ':=' expr ';'                                        # updateStmt
            | 'if' expr then=block ('else' (elseIf=stmt | otherwise=block))?  # ifStmt
            | 'for' ID 'in' expr block                                # forStmt
            | 'no_grad' block                                         # noGradStmt
            | 'return' (expr (',' expr)*)? ';'                        # returnStmt
            | 'assert' expr (',' expr)? ';'                           # assertStmt
            | expr ';'                                                # exprStmt
            ;

expr        : expr '.' ID '(' args? ')'                               # methodCall
            | expr '(' args? ')'                                      # call
            | expr '[' index (',' index)* ']'                         # indexExpr
            | expr '.' ID                                             # memberExpr
            | <assoc=right> expr '**' expr                            # powExpr
            | op=('-' | '!' | '+') expr                               # unaryExpr
            | expr op=('*' | '/' | '%' | '@') expr                    # mulExpr
            | expr op=('+' | '-') expr                                # addExpr
            | expr op=('<' | '<=' | '>' | '>=') expr                  # compareExpr
            | expr op=('==' | '!=') expr                              # equalExpr
            | expr '&&' expr                                          # andExpr
            | expr '||' expr                                          # orExpr
            | <assoc=right> expr '?' expr ':' expr                    # condExpr
            | '[' expr 'for' ID 'in' expr ']'                         # comprehension
            | '[' (expr (',' expr)* ','?)? ']'                        # listExpr
            | '(' expr ',' (expr (',' expr)*)? ')'                    # tupleExpr
            | '(' expr ')'                                            # parenExpr
            | INT                                                     # intLit
            | FLOAT                                                   # floatLit
            | STRING                                                  # stringLit
            | ('true' | 'false')                                      # boolLit
            | name=(ID | 'int' | 'float' | 'bool' | 'str')             # nameExpr
            ;

args        : arg (',' arg)* ','? ;
arg         : (ID '=')? expr ;
index       : '...'                                                   # ellipsisIndex
            | start=expr? ':' stop=expr? (':' step=expr?)?            # sliceIndex
            | expr                                                    # exprIndex
            ;

INT         : [0-9]+ ;
FLOAT       : [0-9]+ '.' [0-9]* EXP? | '.' [0-9]+ EXP? | [0-9]+ EXP ;
fragment EXP: [eE] [+-]? [0-9]+ ;
STRING      : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* ;
ID          : [a-zA-Z_] [a-zA-Z_0-9]* ;
LINE_COMMENT: '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? ('*/' | EOF) -> channel(HIDDEN) ;
WS          : [ \t\r\n\f]+ -> channel(HIDDEN) ;
ERROR_CHAR  : . ;
