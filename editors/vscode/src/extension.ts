// The Weft extension: starts `weft lsp` for `.weft` files. Highlighting
// (the TextMate grammar) and snippets work without the server.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";
import { Settings, WATCHED_FILES, initializationOptions, serverCommand } from "./config";

let client: LanguageClient | undefined;

function settings(): Settings {
  const c = vscode.workspace.getConfiguration("weft");
  return {
    serverPath: c.get<string>("server.path"),
    extraArgs: c.get<string[]>("server.extraArgs"),
    asOf: c.get<string>("asOf"),
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const s = settings();
  const { command, args } = serverCommand(s);
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "weft" }],
    initializationOptions: initializationOptions(s),
    synchronize: {
      configurationSection: "weft",
      fileEvents: vscode.workspace.createFileSystemWatcher(WATCHED_FILES),
    },
  };
  client = new LanguageClient("weft", "Weft language server", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("weft.restartServer", async () => {
      await client?.restart();
    }),
  );
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showWarningMessage(
      `Weft: could not start \`${command} ${args.join(" ")}\` (${String(e)}). ` +
        "Highlighting and snippets still work; set `weft.server.path` to the `weft` command.",
    );
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
