using Netconsole.Send;

return SendTool.RunProcess(args, Console.Out, Console.Error);
